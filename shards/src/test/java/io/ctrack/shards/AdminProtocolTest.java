package io.ctrack.shards;

import io.ctrack.engine.table.ConnTable;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link FanOut}, {@link DumpSession} and the admin actor's zone flush against probes standing in for buckets. */
@ExtendWith(LogCapturingExtension.class)
@Timeout(30)
class AdminProtocolTest
{
    private static final ActorTestKit TEST_KIT = ActorTestKit.create("admin-protocol");

    @AfterAll
    static void shutdown()
    {
        TEST_KIT.shutdownTestKit();
    }

    @Test
    void shouldAnswerOnceEveryBucketHasRepliedAndThenTakeTheNextJob()
    {
        final TestProbe<BucketActor.Command> first = TEST_KIT.createTestProbe();
        final TestProbe<BucketActor.Command> second = TEST_KIT.createTestProbe();
        final TestProbe<Long> requester = TEST_KIT.createTestProbe();
        final TestProbe<AdminActor.Command> admin = TEST_KIT.createTestProbe();
        final ActorRef<Object> collector = TEST_KIT.spawn(FanOut.create(admin.getRef()));

        for (int round = 1; round <= 2; round++)
        {
            collector.tell(new FanOut.Job<BucketActor.Counted, Long>(List.of(first.getRef(), second.getRef()),
                (bucket, self) -> new BucketActor.CountConns(self),
                replies -> replies == null ? -1L : replies.stream().mapToLong(BucketActor.Counted::connections).sum(),
                requester.getRef(), Duration.ofSeconds(10)));

            final BucketActor.CountConns toFirst = first.expectMessageClass(BucketActor.CountConns.class);
            final BucketActor.CountConns toSecond = second.expectMessageClass(BucketActor.CountConns.class);
            toSecond.replyTo().tell(new BucketActor.Counted(1, 5 * round));
            requester.expectNoMessage(Duration.ofMillis(100));
            admin.expectNoMessage(Duration.ofMillis(1));
            toFirst.replyTo().tell(new BucketActor.Counted(0, 7));
            assertEquals(5L * round + 7, requester.receiveMessage());
            // Free again: the admin actor may hand it the next job.
            assertEquals(collector, admin.expectMessageClass(FanOut.Free.class).collector());
        }
    }

    @Test
    void shouldAnswerTheReductionOfNothingWhenABucketNeverRepliesAndRetire()
    {
        final TestProbe<BucketActor.Command> silent = TEST_KIT.createTestProbe();
        final TestProbe<BucketActor.Command> talkative = TEST_KIT.createTestProbe();
        final TestProbe<String> requester = TEST_KIT.createTestProbe();
        final TestProbe<AdminActor.Command> admin = TEST_KIT.createTestProbe();
        final ActorRef<Object> collector = TEST_KIT.spawn(FanOut.create(admin.getRef()));
        final TestProbe<Object> watcher = TEST_KIT.createTestProbe();

        collector.tell(new FanOut.Job<BucketActor.Done, String>(List.of(silent.getRef(), talkative.getRef()),
            (bucket, self) -> new BucketActor.SetSequenceCheck(true, self),
            replies -> replies == null ? "timed out" : "done " + replies.size(), requester.getRef(),
            Duration.ofMillis(300)));

        final BucketActor.SetSequenceCheck late = silent.expectMessageClass(BucketActor.SetSequenceCheck.class);
        talkative.expectMessageClass(BucketActor.SetSequenceCheck.class).replyTo().tell(new BucketActor.Done(1));
        assertEquals("timed out", requester.receiveMessage(Duration.ofSeconds(5)));
        // A collector that timed out is not reused (a late reply could be counted for another job): it stops.
        watcher.expectTerminated(collector, Duration.ofSeconds(5));
        admin.expectNoMessage(Duration.ofMillis(100));
        late.replyTo().tell(new BucketActor.Done(0));
        requester.expectNoMessage(Duration.ofMillis(200));
    }

    @Test
    void shouldAnswerTheFlushOfAnEmptyZoneWithoutAskingTheBuckets()
    {
        final TestProbe<BucketActor.Command> bucket = TEST_KIT.createTestProbe();
        final SharedLimits limits = new SharedLimits();
        final ActorRef<AdminActor.Command> admin =
            TEST_KIT.spawn(AdminActor.create(List.of(bucket.getRef()), limits, 0));
        final TestProbe<AdminActor.Result> replies = TEST_KIT.createTestProbe();

        admin.tell(new AdminActor.FlushZone(4, replies.getRef()));
        final AdminActor.Result empty = replies.receiveMessage();
        assertTrue(empty.ok());
        assertEquals(0, empty.value());
        bucket.expectNoMessage(Duration.ofMillis(100));

        // A zone with a connection is flushed by the buckets.
        assertEquals(io.ctrack.engine.table.Admission.ADMITTED, limits.tryAdmit(4));
        admin.tell(new AdminActor.FlushZone(4, replies.getRef()));
        assertEquals(4, bucket.expectMessageClass(BucketActor.FlushZone.class).zone());
    }

    @Test
    void shouldPullADumpOneSliceAtATimeInBucketOrder()
    {
        final TestProbe<BucketActor.Command> bucket0 = TEST_KIT.createTestProbe();
        final TestProbe<BucketActor.Command> bucket1 = TEST_KIT.createTestProbe();
        final TestProbe<AdminActor.DumpChunk> requester = TEST_KIT.createTestProbe();

        TEST_KIT.spawn(DumpSession.create(List.of(bucket0.getRef(), bucket1.getRef()), 4,
            io.ctrack.engine.ct.DumpFormat.MORE, requester.getRef()));

        // Bucket 0, first slice: more to come from it.
        final BucketActor.DumpSlice s0 = bucket0.expectMessageClass(BucketActor.DumpSlice.class);
        assertEquals(4, s0.zone());
        assertEquals(io.ctrack.engine.ct.DumpFormat.MORE, s0.options());
        assertEquals(ConnTable.SCAN_START, s0.cursor());
        s0.replyTo().tell(new BucketActor.Dumped(0, List.of("a", "b"), 2048));
        final AdminActor.DumpChunk c0 = requester.receiveMessage();
        assertEquals(List.of("a", "b"), c0.lines());
        assertFalse(c0.last());
        bucket0.expectNoMessage(Duration.ofMillis(100));
        bucket1.expectNoMessage(Duration.ofMillis(1));

        // Nothing is asked until the requester asks for more.
        c0.more().tell(new AdminActor.DumpNext(requester.getRef()));
        final BucketActor.DumpSlice s1 = bucket0.expectMessageClass(BucketActor.DumpSlice.class);
        assertEquals(2048, s1.cursor());
        s1.replyTo().tell(new BucketActor.Dumped(0, List.of("c"), ConnTable.SCAN_DONE));
        final AdminActor.DumpChunk c1 = requester.receiveMessage();
        assertEquals(List.of("c"), c1.lines());
        assertFalse(c1.last(), "bucket 1 is still to come");

        c1.more().tell(new AdminActor.DumpNext(requester.getRef()));
        final BucketActor.DumpSlice s2 = bucket1.expectMessageClass(BucketActor.DumpSlice.class);
        assertEquals(ConnTable.SCAN_START, s2.cursor());
        assertEquals(io.ctrack.engine.ct.DumpFormat.MORE, s2.options());
        s2.replyTo().tell(new BucketActor.Dumped(1, List.of(), ConnTable.SCAN_DONE));
        final AdminActor.DumpChunk c2 = requester.receiveMessage();
        assertTrue(c2.last());
        assertTrue(c2.lines().isEmpty());
        bucket0.expectNoMessage(Duration.ofMillis(100));
    }

    @Test
    void shouldEndADumpOfOneEmptyBucketWithOneChunk()
    {
        final TestProbe<BucketActor.Command> bucket = TEST_KIT.createTestProbe();
        final TestProbe<AdminActor.DumpChunk> requester = TEST_KIT.createTestProbe();

        final ActorRef<Object> session = TEST_KIT.spawn(DumpSession.create(List.of(bucket.getRef()), -1, 0,
            requester.getRef()));
        bucket.expectMessageClass(BucketActor.DumpSlice.class).replyTo()
            .tell(new BucketActor.Dumped(0, List.of(), ConnTable.SCAN_DONE));

        final AdminActor.DumpChunk chunk = requester.receiveMessage();
        assertTrue(chunk.last());
        final TestProbe<Object> watcher = TEST_KIT.createTestProbe();
        watcher.expectTerminated(session, Duration.ofSeconds(5));
    }
}
