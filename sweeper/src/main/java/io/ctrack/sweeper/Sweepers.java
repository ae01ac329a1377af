package io.ctrack.sweeper;

import io.ctrack.shards.BucketActor;
import io.ctrack.shards.ShardedNode;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The sweepers of a node: one {@link SweeperActor} per bucket, started next to the node's actors. Changing the
 * settings reaches every sweeper.
 */
public final class Sweepers
{
    private final ShardedNode node;
    private final List<ActorRef<SweeperActor.Command>> sweepers;
    private volatile SweepSettings settings;

    private Sweepers(final ShardedNode node, final List<ActorRef<SweeperActor.Command>> sweepers,
        final SweepSettings settings)
    {
        this.node = node;
        this.sweepers = sweepers;
        this.settings = settings;
    }

    /** Starts one sweeper per bucket of {@code node}, sweeping at the wall clock. */
    public static Sweepers start(final ShardedNode node, final SweepSettings settings)
    {
        return start(node, settings, System::currentTimeMillis);
    }

    /** Starts one sweeper per bucket, sweeping at the time {@code clockMs} gives. */
    public static Sweepers start(final ShardedNode node, final SweepSettings settings, final LongSupplier clockMs)
    {
        final List<ActorRef<SweeperActor.Command>> refs = new ArrayList<>();
        int i = 0;
        for (final ActorRef<BucketActor.Command> bucket : node.bucketRefs())
        {
            refs.add(node.system().systemActorOf(SweeperActor.create(bucket, settings, clockMs), "sweeper-" + i++,
                Props.empty()));
        }
        return new Sweepers(node, List.copyOf(refs), settings);
    }

    public SweepSettings settings()
    {
        return settings;
    }

    /** Changes the pacing of every sweeper and waits until each has it. */
    public void settings(final SweepSettings newSettings)
    {
        this.settings = newSettings;
        for (final ActorRef<SweeperActor.Command> sweeper : sweepers)
        {
            sweeper.tell(new SweeperActor.SetSettings(newSettings));
            try
            {
                AskPattern.<SweeperActor.Command, SweepSettings>ask(sweeper, SweeperActor.GetSettings::new,
                    Duration.ofSeconds(10), node.system().scheduler()).toCompletableFuture().get(10, TimeUnit.SECONDS);
            }
            catch (final Exception ex)
            {
                throw new IllegalStateException("sweeper did not take the new settings: " + ex.getMessage(), ex);
            }
        }
    }

    /** The sweep interval, as {@code ct-get-sweep-interval} shows it (ms). */
    public long intervalMs()
    {
        return settings.intervalMs();
    }

    /** Sets the sweep interval ({@code ct-set-sweep-interval MS}). */
    public void intervalMs(final long ms)
    {
        settings(settings.withIntervalMs(ms));
    }
}
