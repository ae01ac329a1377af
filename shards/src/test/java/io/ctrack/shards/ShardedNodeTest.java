package io.ctrack.shards;

import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.testing.TestPackets;
import io.ctrack.engine.testing.Traffic;
import io.ctrack.transport.PacketWorker;
import org.agrona.concurrent.UnsafeBuffer;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static io.ctrack.engine.testing.Traffic.verdict;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(LogCapturingExtension.class)
class ShardedNodeTest
{
    @Test
    @Timeout(60)
    void shouldLeaveNoAeronDirectoryAfterClose()
    {
        final NodeSettings settings = NodeTesting.settings("lifecycle", 4);
        final Path dir = settings.transport().aeronDir();
        assertTrue(dir.startsWith("/dev/shm"), "Aeron under /dev/shm: " + dir);
        final ShardedNode node = ShardedNode.start(settings);
        try
        {
            assertTrue(Files.isDirectory(dir), "running node has its directory");
            assertEquals(4, node.buckets());
            assertEquals(4, node.bucketRefs().size());
            final PacketWorker worker = node.newWorker(2);
            final UnsafeBuffer out = NodeTesting.track(worker,
                List.of(TestPackets.ipv4("10.0.0.1", "10.0.0.2").udp(1, 2).build()), ExecParams.commit(0), 1, 1);
            assertEquals("new|trk", CtState.format(verdict(out, 0).ctState()));
        }
        finally
        {
            NodeTesting.close(node);
        }
        assertFalse(Files.exists(dir));
    }

    @Test
    @Timeout(60)
    void shouldStartOverAStaleDirectoryAndRemoveIt() throws Exception
    {
        final NodeSettings settings = NodeTesting.settings("stale", 1);
        final Path dir = settings.transport().aeronDir();
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("left-over"), "from a node that crashed");
        ShardedNode node = null;
        try
        {
            node = ShardedNode.start(settings);
            assertFalse(Files.exists(dir.resolve("left-over")));
            NodeTesting.close(node);
            // The same name again: a fresh start in the same directory.
            node = ShardedNode.start(settings);
            assertEquals(0, NodeTesting.countConnections(node));
        }
        finally
        {
            NodeTesting.close(node);
        }
    }

    @Test
    @Timeout(60)
    void shouldHandOutWorkersWithTheirOwnIdsAndSumTheirCounters()
    {
        final ShardedNode node = ShardedNode.start(NodeTesting.settings("workers", 2));
        try
        {
            final PacketWorker first = node.newWorker(1);
            final PacketWorker second = node.newWorker(4);
            assertEquals(0, first.workerId());
            assertEquals(1, second.workerId());
            final List<byte[]> frames = Traffic.mixed(new Random(1), 50, 0);
            NodeTesting.track(first, frames, ExecParams.commit(0), 1000, 16);
            NodeTesting.track(second, frames, ExecParams.commit(1), 1000, 16);

            final long[] totals = node.counterTotals();
            assertEquals(2L * frames.size(), totals[EngineCounter.PACKETS.id()]);
            long requests = 0;
            for (int b = 0; b < node.buckets(); b++)
            {
                requests += node.bucketCounter(b, EngineCounter.REQUESTS);
            }
            assertEquals(requests, totals[EngineCounter.REQUESTS.id()]);
            assertTrue(requests > 0 && requests <= 2L * frames.size());

            node.closeWorker(first);
            final PacketWorker third = node.newWorker(1);
            assertEquals(2, third.workerId(), "ids are not reused");
        }
        finally
        {
            NodeTesting.close(node);
        }
    }

    @Test
    void shouldRejectBadSettings()
    {
        assertThrows(IllegalArgumentException.class, () -> NodeSettings.defaults("bad", 3));
        assertThrows(IllegalArgumentException.class, () -> NodeSettings.defaults("bad", 2048));
        assertThrows(IllegalArgumentException.class, () -> NodeSettings.defaults("bad", 4).withBucketThreads(0));
        assertEquals(16, NodeSettings.defaults("ok", 16).buckets());
        assertEquals(4, NodeSettings.defaults("ok", 16).bucketBits());
    }
}
