package io.ctrack.shards;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * A short-lived child that sends one command to every bucket and answers its requester once every bucket has
 * replied (or with a failure after a timeout). The per-request child keeps the admin actor free of bookkeeping
 * for requests in progress.
 */
final class FanOut
{
    private enum Timeout
    {
        INSTANCE
    }

    private FanOut()
    {
    }

    /**
     * @param buckets  the buckets to ask.
     * @param command  builds the command for a bucket given the reply address.
     * @param reduce   turns the replies (in arrival order) into the answer; gets null on timeout.
     */
    @SuppressWarnings("unchecked")
    static <R, A> Behavior<Object> create(final List<ActorRef<BucketActor.Command>> buckets,
        final BiFunction<ActorRef<BucketActor.Command>, ActorRef<R>, BucketActor.Command> command,
        final Function<List<R>, A> reduce, final ActorRef<A> replyTo, final Duration timeout)
    {
        return Behaviors.setup(context -> Behaviors.withTimers(timers ->
        {
            final ActorRef<R> self = context.getSelf().narrow();
            for (final ActorRef<BucketActor.Command> bucket : buckets)
            {
                bucket.tell(command.apply(bucket, self));
            }
            timers.startSingleTimer(Timeout.INSTANCE, timeout);
            final List<R> replies = new ArrayList<>(buckets.size());
            return Behaviors.receive(Object.class)
                .onMessageEquals(Timeout.INSTANCE, () ->
                {
                    replyTo.tell(reduce.apply(null));
                    return Behaviors.stopped();
                })
                .onAnyMessage(message ->
                {
                    replies.add((R)message);
                    if (replies.size() == buckets.size())
                    {
                        replyTo.tell(reduce.apply(replies));
                        return Behaviors.stopped();
                    }
                    return Behaviors.same();
                })
                .build();
        }));
    }
}
