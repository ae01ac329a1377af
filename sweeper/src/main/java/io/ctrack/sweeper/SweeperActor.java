package io.ctrack.sweeper;

import io.ctrack.shards.BucketActor;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Drives expiry of one bucket: asks it for a {@link BucketActor.SweepStep} with a budget, and schedules the next
 * step from the answer: right away (or after the minimum interval) while expired connections remain, at the time
 * the next expiry slot completes when something is due sooner than the interval, else after the interval. The
 * bucket does the bounded work between its packet batches; the sweeper only paces it.
 */
public final class SweeperActor extends AbstractBehavior<SweeperActor.Command>
{
    /** Messages a sweeper understands. */
    public sealed interface Command permits Tick, StepTimeout, StepDone, SetSettings, GetSettings
    {
    }

    private enum Tick implements Command
    {
        INSTANCE
    }

    /** A step not answered in time (the bucket failed while sweeping): forget it and carry on. */
    private enum StepTimeout implements Command
    {
        INSTANCE
    }

    /** How long a step may take to be answered before the sweeper stops waiting for it. */
    static final Duration STEP_TIMEOUT = Duration.ofSeconds(30);

    private record StepDone(BucketActor.Swept swept) implements Command
    {
    }

    /** Changes the pacing (for example the interval, from {@code ct-set-sweep-interval}). */
    public record SetSettings(SweepSettings settings) implements Command
    {
    }

    public record GetSettings(ActorRef<SweepSettings> replyTo) implements Command
    {
    }

    private final ActorRef<BucketActor.Command> bucket;
    private final TimerScheduler<Command> timers;
    private final ActorRef<BucketActor.Swept> stepReplies;
    private final LongSupplier clockMs;
    private SweepSettings settings;
    private boolean stepInFlight;

    private SweeperActor(final ActorContext<Command> context, final TimerScheduler<Command> timers,
        final ActorRef<BucketActor.Command> bucket, final SweepSettings settings, final LongSupplier clockMs)
    {
        super(context);
        this.timers = timers;
        this.bucket = bucket;
        this.settings = settings;
        this.clockMs = clockMs;
        this.stepReplies = context.messageAdapter(BucketActor.Swept.class, StepDone::new);
        context.getSelf().tell(Tick.INSTANCE);
    }

    /**
     * @param clockMs the time sweeps run at (the wall clock for a running node; tests pass their own).
     */
    public static Behavior<Command> create(final ActorRef<BucketActor.Command> bucket, final SweepSettings settings,
        final LongSupplier clockMs)
    {
        return Behaviors.setup(context -> Behaviors.withTimers(
            timers -> new SweeperActor(context, timers, bucket, settings, clockMs)));
    }

    @Override
    public Receive<Command> createReceive()
    {
        return newReceiveBuilder()
            .onMessageEquals(Tick.INSTANCE, this::onTick)
            .onMessageEquals(StepTimeout.INSTANCE, this::onStepTimeout)
            .onMessage(StepDone.class, this::onStepDone)
            .onMessage(SetSettings.class, this::onSetSettings)
            .onMessage(GetSettings.class, command ->
            {
                command.replyTo().tell(settings);
                return this;
            })
            .build();
    }

    private Behavior<Command> onTick()
    {
        if (!stepInFlight)
        {
            stepInFlight = true;
            bucket.tell(new BucketActor.SweepStep(settings.budget(), clockMs.getAsLong(), stepReplies));
            timers.startSingleTimer(StepTimeout.INSTANCE, StepTimeout.INSTANCE, STEP_TIMEOUT);
        }
        return this;
    }

    private Behavior<Command> onStepTimeout()
    {
        if (stepInFlight)
        {
            getContext().getLog().warn("sweep step of {} not answered within {}; sweeping on", bucket.path(), STEP_TIMEOUT);
            stepInFlight = false;
            getContext().getSelf().tell(Tick.INSTANCE);
        }
        return this;
    }

    private Behavior<Command> onStepDone(final StepDone done)
    {
        stepInFlight = false;
        timers.cancel(StepTimeout.INSTANCE);
        final BucketActor.Swept swept = done.swept();
        final long delayMs;
        if (swept.behind())
        {
            delayMs = settings.minIntervalMs();
        }
        else
        {
            final long untilDue = swept.nextDueMs() == Long.MAX_VALUE ? Long.MAX_VALUE
                : swept.nextDueMs() - clockMs.getAsLong();
            delayMs = Math.max(settings.minIntervalMs(), Math.min(settings.intervalMs(), untilDue));
        }
        if (delayMs <= 0)
        {
            getContext().getSelf().tell(Tick.INSTANCE);
        }
        else
        {
            timers.startSingleTimer(Tick.INSTANCE, Duration.ofMillis(delayMs));
        }
        return this;
    }

    private Behavior<Command> onSetSettings(final SetSettings command)
    {
        settings = command.settings();
        // Re-pace at once: a shorter interval must not wait for the longer timer set before.
        timers.cancel(Tick.INSTANCE);
        getContext().getSelf().tell(Tick.INSTANCE);
        return this;
    }
}
