package io.ctrack.shards;

import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.testing.TestPackets;
import io.ctrack.engine.testing.Traffic;
import io.ctrack.transport.PacketWorker;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;

import static io.ctrack.engine.testing.TestPackets.ACK;
import static io.ctrack.engine.testing.TestPackets.PSH;
import static io.ctrack.engine.testing.TestPackets.SYN;
import static io.ctrack.engine.testing.Traffic.verdict;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A bucket that fails is restarted by its supervisor with its table: no connection is lost. */
@ExtendWith(LogCapturingExtension.class)
class BucketSupervisionTest
{
    private static final int CONNECTIONS = 400;

    private ShardedNode node;

    @AfterEach
    void closeNode()
    {
        NodeTesting.close(node);
    }

    /** Client SYN, server SYN/ACK, client ACK of connection {@code i}: committed and established. */
    private static List<byte[]> handshake(final int i)
    {
        final String client = Traffic.v4Client(i);
        final String server = Traffic.v4Server(i);
        return List.of(
            TestPackets.ipv4(client, server).tcp(40_000, 80).flags(SYN).seq(1000).window(64240).build(),
            TestPackets.ipv4(server, client).tcp(80, 40_000).flags(SYN | ACK).seq(5000).ack(1001).window(65160).build(),
            TestPackets.ipv4(client, server).tcp(40_000, 80).flags(ACK).seq(1001).ack(5001).window(502).build());
    }

    private static byte[] data(final int i)
    {
        return TestPackets.ipv4(Traffic.v4Client(i), Traffic.v4Server(i)).tcp(40_000, 80).flags(PSH | ACK).seq(1001)
            .ack(5001).window(502).payload(10).build();
    }

    private PacketWorker establish(final int connections, final long nowMs)
    {
        final PacketWorker worker = node.newWorker(1);
        final List<byte[]> frames = new ArrayList<>();
        for (int i = 0; i < connections; i++)
        {
            frames.addAll(handshake(i));
        }
        final UnsafeBuffer out = NodeTesting.track(worker, frames, ExecParams.commit(0), nowMs, 96);
        for (int i = 0; i < connections; i++)
        {
            assertEquals("est|trk", CtState.format(verdict(out, i * 3 + 2).ctState()), "handshake of " + i);
        }
        assertEquals(connections, NodeTesting.countConnections(node));
        return worker;
    }

    private void assertStillEstablished(final PacketWorker worker, final int connections, final long nowMs)
    {
        final List<byte[]> frames = new ArrayList<>();
        for (int i = 0; i < connections; i++)
        {
            frames.add(data(i));
        }
        final UnsafeBuffer out = NodeTesting.track(worker, frames, ExecParams.commit(0), nowMs, 64);
        for (int i = 0; i < connections; i++)
        {
            assertEquals("est|trk", CtState.format(verdict(out, i).ctState()), "data of connection " + i);
        }
    }

    @Test
    @Timeout(60)
    void shouldKeepEveryConnectionWhenTheAdminFailsEveryBucket()
    {
        node = ShardedNode.start(NodeTesting.settings("supervise-admin", 16));
        final long nowMs = System.currentTimeMillis();
        final PacketWorker worker = establish(CONNECTIONS, nowMs);
        final List<String> before = NodeTesting.dump(node, -1);

        for (int b = 0; b < node.buckets(); b++)
        {
            final int bucket = b;
            NodeTesting.ok(node.ask(replyTo -> new AdminActor.FailBucket(bucket, replyTo)));
        }
        for (int b = 0; b < node.buckets(); b++)
        {
            final int bucket = b;
            NodeTesting.await(() -> node.bucketRestarts(bucket) > 0, "bucket " + b + " restarted");
        }

        assertEquals(CONNECTIONS, NodeTesting.countConnections(node));
        assertEquals(before.size(), NodeTesting.dump(node, -1).size());
        assertStillEstablished(worker, CONNECTIONS, nowMs + 1000);
        assertEquals(0, node.counterTotals()[EngineCounter.DROPPED_BUCKET_FAILURE.id()],
            "a fault between batches drops nothing");
        assertEquals(CONNECTIONS, node.limits().count());
    }

    @Test
    @Timeout(60)
    void shouldKeepEveryConnectionWhenBucketsFailInsideABatch()
    {
        node = ShardedNode.start(NodeTesting.settings("supervise-batch", 16));
        final long nowMs = System.currentTimeMillis();
        final PacketWorker worker = establish(CONNECTIONS, nowMs);
        for (int b = 0; b < node.buckets(); b++)
        {
            node.bucketRefs().get(b).tell(new BucketActor.InjectFault("test", 3));
        }

        // Data on every connection: in each bucket, the fourth request from now throws.
        final List<byte[]> frames = new ArrayList<>();
        for (int i = 0; i < CONNECTIONS; i++)
        {
            frames.add(data(i));
        }
        NodeTesting.countConnections(node); // the faults are armed once the buckets have answered this
        final UnsafeBuffer out = NodeTesting.track(worker, frames, ExecParams.commit(0), nowMs + 500, CONNECTIONS);
        int dropped = 0;
        for (int i = 0; i < CONNECTIONS; i++)
        {
            final Verdict v = verdict(out, i);
            if ((v.flags() & Verdict.FLAG_DROPPED) != 0)
            {
                assertEquals(EngineCounter.DROPPED_BUCKET_FAILURE.id(), v.reason());
                dropped++;
            }
            else
            {
                assertEquals("est|trk", CtState.format(v.ctState()), "connection " + i);
            }
        }
        assertTrue(dropped >= node.buckets(), "one failure per bucket at least: " + dropped);
        assertEquals(dropped, node.counterTotals()[EngineCounter.DROPPED_BUCKET_FAILURE.id()]);
        for (int b = 0; b < node.buckets(); b++)
        {
            final int bucket = b;
            NodeTesting.await(() -> node.bucketRestarts(bucket) == 1, "bucket " + b + " restarted once");
        }

        assertEquals(CONNECTIONS, NodeTesting.countConnections(node), "the tables survived the restarts");
        assertStillEstablished(worker, CONNECTIONS, nowMs + 1000);
        assertEquals(dropped, node.counterTotals()[EngineCounter.DROPPED_BUCKET_FAILURE.id()], "faults fire once");
    }

    @Test
    @Timeout(60)
    void shouldSurviveRepeatedRestartsOfOneBucket()
    {
        node = ShardedNode.start(NodeTesting.settings("supervise-repeat", 4));
        final long nowMs = System.currentTimeMillis();
        final PacketWorker worker = establish(100, nowMs);
        for (int k = 1; k <= 10; k++)
        {
            NodeTesting.ok(node.ask(replyTo -> new AdminActor.FailBucket(2, replyTo)));
            final int expected = k;
            NodeTesting.await(() -> node.bucketRestarts(2) == expected, "restart " + k);
            assertEquals(100, NodeTesting.countConnections(node));
        }
        assertStillEstablished(worker, 100, nowMs + 1000);
        assertEquals(0, node.bucketRestarts(0) + node.bucketRestarts(1) + node.bucketRestarts(3));
        assertTrue(!NodeTesting.ok(node.ask(replyTo -> new AdminActor.FailBucket(2, replyTo))).text().isEmpty());
        final AdminActor.Result noSuchBucket = node.ask(replyTo -> new AdminActor.FailBucket(4, replyTo));
        assertTrue(!noSuchBucket.ok(), noSuchBucket.text());
    }

    /**
     * {@code InjectFault}'s contract: with {@code afterRequests} not negative it throws "while tracking the request
     * that many requests from now (in the middle of a batch: the rest of that batch is answered "dropped")".
     */
    @Test
    @Timeout(60)
    void shouldAnswerTheRestOfTheBatchDroppedAfterAFaultInsideIt()
    {
        node = ShardedNode.start(NodeTesting.settings("supervise-rest", 1));
        final PacketWorker worker = node.newWorker(1);
        node.bucketRefs().get(0).tell(new BucketActor.InjectFault("test", 3));
        NodeTesting.countConnections(node);
        final List<byte[]> frames = new ArrayList<>();
        for (int i = 0; i < 10; i++)
        {
            frames.add(TestPackets.ipv4(Traffic.v4Client(i), Traffic.v4Server(i)).udp(1000, 53).build());
        }

        final UnsafeBuffer out = NodeTesting.track(worker, frames, ExecParams.commit(0), System.currentTimeMillis(), 10);

        final List<String> actual = new ArrayList<>();
        final List<String> expected = new ArrayList<>();
        for (int i = 0; i < 10; i++)
        {
            final Verdict v = verdict(out, i);
            actual.add((v.flags() & Verdict.FLAG_DROPPED) != 0 ? "dropped:" + v.reason() : CtState.format(v.ctState()));
            expected.add(i < 3 ? "new|trk" : "dropped:" + EngineCounter.DROPPED_BUCKET_FAILURE.id());
        }
        assertEquals(expected, actual);
        assertEquals(7, node.counterTotals()[EngineCounter.DROPPED_BUCKET_FAILURE.id()]);
        assertEquals(3, NodeTesting.countConnections(node));
    }
}
