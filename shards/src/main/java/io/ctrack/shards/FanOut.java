package io.ctrack.shards;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * A child of the admin actor that sends one command to a set of buckets and answers the requester once every bucket
 * has replied, or with a failure after a timeout. It is reused: after answering it tells the admin actor it is free
 * and waits for the next {@link Job}, so an admin command costs no actor creation (spawning is the most expensive
 * step of a small command). A collector whose job timed out stops instead of being reused, so a late reply can never
 * be counted for another job.
 */
final class FanOut
{
    private FanOut()
    {
    }

    /** Sent by a collector to its admin actor when it can take another job. */
    record Free(ActorRef<Object> collector) implements AdminActor.Command
    {
    }

    /**
     * One fan-out: {@code command} builds each bucket's command given the reply address; {@code reduce} turns the
     * replies (in arrival order) into the answer, or gets null on timeout.
     */
    record Job<R, A>(List<ActorRef<BucketActor.Command>> buckets,
        BiFunction<ActorRef<BucketActor.Command>, ActorRef<R>, BucketActor.Command> command,
        Function<List<R>, A> reduce, ActorRef<A> replyTo, Duration timeout)
    {
    }

    private enum Timeout
    {
        INSTANCE
    }

    static Behavior<Object> create(final ActorRef<AdminActor.Command> admin)
    {
        return Behaviors.setup(context -> Behaviors.withTimers(timers -> idle(context, timers, admin)));
    }

    private static Behavior<Object> idle(final ActorContext<Object> context, final TimerScheduler<Object> timers,
        final ActorRef<AdminActor.Command> admin)
    {
        return Behaviors.receive(Object.class)
            .onMessage(Job.class, job -> start(context, timers, admin, job))
            .build();
    }

    @SuppressWarnings({ "unchecked", "rawtypes" })
    private static Behavior<Object> start(final ActorContext<Object> context, final TimerScheduler<Object> timers,
        final ActorRef<AdminActor.Command> admin, final Job job)
    {
        final ActorRef<Object> self = context.getSelf();
        final List<ActorRef<BucketActor.Command>> buckets = job.buckets();
        for (final ActorRef<BucketActor.Command> bucket : buckets)
        {
            bucket.tell((BucketActor.Command)job.command().apply(bucket, self));
        }
        timers.startSingleTimer(Timeout.INSTANCE, job.timeout());
        final List<Object> replies = new ArrayList<>(buckets.size());
        return Behaviors.receive(Object.class)
            .onMessageEquals(Timeout.INSTANCE, () ->
            {
                job.replyTo().tell(job.reduce().apply(null));
                return Behaviors.stopped();
            })
            .onAnyMessage(message ->
            {
                replies.add(message);
                if (replies.size() < buckets.size())
                {
                    return Behaviors.same();
                }
                timers.cancel(Timeout.INSTANCE);
                job.replyTo().tell(job.reduce().apply(replies));
                admin.tell(new Free(self));
                return idle(context, timers, admin);
            })
            .build();
    }
}
