package io.ctrack.shards;

import io.ctrack.engine.table.ConnTable;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.time.Duration;
import java.util.List;

/**
 * One dump in progress: asks the buckets one slice at a time, in bucket order, and hands each slice to the
 * requester only when it asks for more. So a dump of millions of connections holds one slice in memory and
 * lets packets through between slices.
 */
final class DumpSession
{
    private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(60);

    private DumpSession()
    {
    }

    private enum Idle
    {
        INSTANCE
    }

    static Behavior<Object> create(final List<ActorRef<BucketActor.Command>> buckets, final int zone,
        final int options, final ActorRef<AdminActor.DumpChunk> replyTo)
    {
        return Behaviors.setup(context -> Behaviors.withTimers(timers ->
        {
            final ActorRef<AdminActor.DumpNext> more = context.getSelf().narrow();
            final ActorRef<?>[] requester = { replyTo };
            final ActorRef<BucketActor.Dumped> sliceReplies = context.getSelf().narrow();
            final int[] bucket = { 0 };
            final long[] cursor = { ConnTable.SCAN_START };
            buckets.get(0).tell(new BucketActor.DumpSlice(zone, options, cursor[0], sliceReplies));
            timers.startSingleTimer(Idle.INSTANCE, IDLE_TIMEOUT);
            return Behaviors.receive(Object.class)
                .onMessage(BucketActor.Dumped.class, dumped ->
                {
                    cursor[0] = dumped.nextCursor();
                    if (cursor[0] == ConnTable.SCAN_DONE)
                    {
                        bucket[0]++;
                        cursor[0] = ConnTable.SCAN_START;
                    }
                    final boolean last = bucket[0] >= buckets.size();
                    @SuppressWarnings("unchecked")
                    final ActorRef<AdminActor.DumpChunk> to = (ActorRef<AdminActor.DumpChunk>)requester[0];
                    to.tell(new AdminActor.DumpChunk(dumped.lines(), last, more));
                    if (last)
                    {
                        return Behaviors.stopped();
                    }
                    timers.startSingleTimer(Idle.INSTANCE, IDLE_TIMEOUT);
                    return Behaviors.same();
                })
                .onMessage(AdminActor.DumpNext.class, next ->
                {
                    requester[0] = next.replyTo();
                    buckets.get(bucket[0]).tell(new BucketActor.DumpSlice(zone, options, cursor[0], sliceReplies));
                    timers.startSingleTimer(Idle.INSTANCE, IDLE_TIMEOUT);
                    return Behaviors.same();
                })
                .onMessageEquals(Idle.INSTANCE, Behaviors::stopped)
                .build();
        }));
    }
}
