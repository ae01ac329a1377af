package io.ctrack.shards;

import io.ctrack.engine.FrameBatch;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.testing.TestPackets;
import io.ctrack.engine.testing.Traffic;
import io.ctrack.transport.PacketWorker;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A parked bucket always comes back for batches in its stream: none waits for a verdict timeout. */
@ExtendWith(LogCapturingExtension.class)
class BucketWakeUpTest
{
    @Test
    @Timeout(60)
    void shouldAnswerEveryBatchWhenTheWorkerIsSlowToReadVerdicts()
    {
        final NodeSettings settings = NodeTesting.withTransport(NodeTesting.settings("wake", 1).withIdleSpinNs(0),
            64 * 1024, TimeUnit.MILLISECONDS.toNanos(1), TimeUnit.SECONDS.toNanos(2));
        final ShardedNode node = ShardedNode.start(settings);
        try
        {
            final PacketWorker worker = node.newWorker(1024);
            final List<byte[]> frames = new ArrayList<>();
            for (int i = 0; i < 32; i++)
            {
                frames.add(TestPackets.ipv4(Traffic.v4Client(i), Traffic.v4Server(i)).udp(1000 + i, 53).build());
            }
            final FrameBatch batch = Traffic.batchOf(frames);
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(6);
            int rounds = 0;
            while (System.nanoTime() < deadline
                && node.counterTotals()[EngineCounter.DROPPED_VERDICT_TIMEOUT.id()] == 0)
            {
                // The worker publishes without reading its verdicts, so the bucket's verdict stream fills up ...
                for (int k = 0; k < 40 && worker.inFlight() < 1000; k++)
                {
                    worker.submit(batch, ExecParams.commit(0), System.currentTimeMillis(), Traffic.poisoned(32), 0,
                        0);
                    if ((k & 7) == 7)
                    {
                        Thread.onSpinWait();
                    }
                }
                // ... then reads them all.
                final long roundEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (worker.inFlight() > 0 && System.nanoTime() < roundEnd)
                {
                    if (worker.poll() == 0)
                    {
                        Thread.yield();
                    }
                }
                rounds++;
            }
            final long[] totals = node.counterTotals();
            assertTrue(totals[EngineCounter.VERDICT_BACK_PRESSURE.id()] > 0, "the verdict stream filled up");
            assertEquals(0, totals[EngineCounter.DROPPED_VERDICT_TIMEOUT.id()],
                "a batch waited for the verdict timeout after " + rounds + " rounds: "
                    + totals[EngineCounter.VERDICT_BACK_PRESSURE.id()] + " verdict back-pressure events, "
                    + totals[EngineCounter.DROPPED_BACK_PRESSURE.id()] + " dropped by back-pressure");
        }
        finally
        {
            NodeTesting.close(node);
        }
    }
}
