package io.ctrack.shards;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.status.EngineCounters;
import io.ctrack.engine.table.ConnTable;
import io.ctrack.engine.table.ConnTableConfig;
import io.ctrack.engine.timeout.TimeoutPolicies;
import io.ctrack.transport.BucketEndpoint;
import io.ctrack.transport.Doorbells;
import io.ctrack.transport.EmbeddedDriver;
import io.ctrack.transport.PacketWorker;
import org.agrona.CloseHelper;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * One ctrack node in a process: the Aeron driver and client, 2^k bucket actors on their own dispatcher (each
 * owning a table and its end of the streams), the admin actor, and the packet workers handed out to packet
 * threads. {@link #close()} stops everything and deletes the Aeron directory.
 */
public final class ShardedNode implements AutoCloseable
{
    private static final Duration ASK_TIMEOUT = Duration.ofSeconds(30);
    private static final long ASK_SPIN_NS = 200_000;
    private static final String BUCKET_DISPATCHER = "ctrack.bucket-dispatcher";

    private final NodeSettings settings;
    private final EmbeddedDriver driver;
    private final SharedLimits limits;
    private final List<BucketState> bucketStates;
    private final Doorbells doorbells;
    private final ActorSystem<Void> system;
    private final List<ActorRef<BucketActor.Command>> buckets;
    private final ActorRef<AdminActor.Command> admin;
    private final List<PacketWorker> workers = new CopyOnWriteArrayList<>();
    /** Where the bucket executor leaves its queue for this node ({@link SpinningExecutor#takeQueue}). */
    private final String helpKey;
    /** The bucket executor's queue, which packet threads help with (taken when the first worker is made). */
    private final java.util.concurrent.atomic.AtomicReference<SpinningExecutor.SpinQueue> bucketQueue =
        new java.util.concurrent.atomic.AtomicReference<>();
    private volatile BucketHelp bucketHelp = BucketHelp.AUTO;
    private static final java.util.concurrent.atomic.AtomicLong HELP_KEYS = new java.util.concurrent.atomic.AtomicLong();

    /**
     * Whether packet threads run bucket work while they wait for verdicts, and the bucket threads then leave it to
     * them: {@code AUTO} when the node has at least as many packet workers as the machine has cores (a bucket
     * thread would be one thread too many), {@code ON}, {@code OFF}.
     */
    public enum BucketHelp
    {
        AUTO, ON, OFF;

        /** Parses {@code auto}, {@code on} or {@code off}. */
        public static BucketHelp parse(final String text)
        {
            return switch (text)
            {
                case "auto" -> AUTO;
                case "on" -> ON;
                case "off" -> OFF;
                default -> throw new IllegalArgumentException("bucket help must be auto, on or off, got '" + text + "'");
            };
        }
    }
    private final AtomicInteger nextWorkerId = new AtomicInteger();
    /** Counters of closed workers, so totals never go backwards. */
    private final java.util.concurrent.atomic.AtomicLongArray retiredWorkerCounters =
        new java.util.concurrent.atomic.AtomicLongArray(EngineCounter.count());

    private ShardedNode(final NodeSettings settings, final EmbeddedDriver driver, final SharedLimits limits,
        final List<BucketState> bucketStates, final Doorbells doorbells, final ActorSystem<Void> system,
        final List<ActorRef<BucketActor.Command>> buckets, final ActorRef<AdminActor.Command> admin,
        final String helpKey)
    {
        this.helpKey = helpKey;
        this.settings = settings;
        this.driver = driver;
        this.limits = limits;
        this.bucketStates = bucketStates;
        this.doorbells = doorbells;
        this.system = system;
        this.buckets = buckets;
        this.admin = admin;
    }

    /** Starts a node; blocks until its buckets and admin actor are running. */
    public static ShardedNode start(final NodeSettings settings)
    {
        return start(settings, ConfigFactory.empty());
    }

    /** Starts a node with extra Pekko configuration (it takes precedence over the node's own). */
    public static ShardedNode start(final NodeSettings settings, final Config extraConfig)
    {
        final String helpKey = settings.name() + "#" + HELP_KEYS.incrementAndGet();
        final EmbeddedDriver driver = EmbeddedDriver.start(settings.transport());
        final List<BucketState> states = new ArrayList<>();
        ActorSystem<Void> system = null;
        try
        {
            final SharedLimits limits = new SharedLimits();
            limits.maxConns(settings.maxConns());
            final AtomicReferenceArray<ActorRef<BucketActor.Command>> refs =
                new AtomicReferenceArray<>(settings.buckets());
            final Doorbells doorbells = new Doorbells(settings.buckets(), bucket ->
            {
                final ActorRef<BucketActor.Command> ref = refs.get(bucket);
                if (ref != null)
                {
                    ref.tell(BucketActor.WAKE);
                }
            });
            for (int b = 0; b < settings.buckets(); b++)
            {
                final int bucket = b;
                final EngineCounters counters = new EngineCounters();
                final TimeoutPolicies policies = new TimeoutPolicies();
                final ConnTable table = new ConnTable(new ConnTableConfig(b, settings.bucketCapacity(),
                    settings.wheelSlots(), settings.wheelSlotMs()), policies, limits, counters);
                states.add(new BucketState(b, table, new BucketEndpoint(b, driver.aeron(), settings.transport(), counters,
                    () -> doorbells.ring(bucket)),
                    counters, policies, driver.duty()));
            }
            final java.util.concurrent.atomic.AtomicReference<io.ctrack.engine.flow.FlowTables> flowTables =
                new java.util.concurrent.atomic.AtomicReference<>();
            for (final BucketState state : states)
            {
                state.flowTables = flowTables;
                state.stage = new io.ctrack.engine.flow.SinglePassStage(state.table, settings.bucketBits() == 0);
                state.doorbells = doorbells;
                state.nat = new NatBucket(state, settings.bucketBits(), refs::get, settings.transport().verdictTimeoutNs());
            }
            final CompletableFuture<List<ActorRef<BucketActor.Command>>> spawnedBuckets = new CompletableFuture<>();
            final CompletableFuture<ActorRef<AdminActor.Command>> spawnedAdmin = new CompletableFuture<>();
            final Behavior<Void> guardian = Behaviors.setup(context ->
            {
                final List<ActorRef<BucketActor.Command>> spawned = new ArrayList<>();
                for (final BucketState state : states)
                {
                    final ActorRef<BucketActor.Command> ref = context.spawn(
                        BucketActor.create(state, doorbells, settings.batchesPerDrain(), settings.idleSpinNs(), refs::get),
                        "bucket-" + state.bucketId, DispatcherSelector.fromConfig(BUCKET_DISPATCHER));
                    refs.set(state.bucketId, ref);
                    spawned.add(ref);
                }
                if (driver.invoker() != null)
                {
                    context.spawn(DriverPump.create(driver), "aeron-driver",
                        DispatcherSelector.fromConfig(BUCKET_DISPATCHER));
                }
                // The admin actor shares the buckets' threads: an admin command then costs no extra thread wake-ups.
                spawnedAdmin.complete(context.spawn(AdminActor.create(spawned, limits, settings.bucketBits()), "admin",
                    DispatcherSelector.fromConfig(BUCKET_DISPATCHER)));
                spawnedBuckets.complete(List.copyOf(spawned));
                return Behaviors.empty();
            });
            system = ActorSystem.create(guardian, settings.name(), extraConfig.withFallback(config(settings, helpKey)));
            final List<ActorRef<BucketActor.Command>> buckets = spawnedBuckets.get(30, TimeUnit.SECONDS);
            final ActorRef<AdminActor.Command> admin = spawnedAdmin.get(30, TimeUnit.SECONDS);
            return new ShardedNode(settings, driver, limits, states, doorbells, system, buckets, admin, helpKey);
        }
        catch (final Exception ex)
        {
            if (system != null)
            {
                system.terminate();
                awaitTermination(system);
            }
            driver.resumeOwnPump();
            states.forEach(s -> CloseHelper.quietClose(s.endpoint));
            CloseHelper.quietClose(driver);
            SpinningExecutor.takeQueue(helpKey);
            throw ex instanceof RuntimeException ? (RuntimeException)ex : new IllegalStateException(ex);
        }
    }

    private static Config config(final NodeSettings settings, final String helpKey)
    {
        return ConfigFactory.parseString(
            "pekko.loglevel = WARNING\n"
            + "pekko.stdout-loglevel = WARNING\n"
            + "pekko.actor.default-dispatcher.fork-join-executor.parallelism-max = 2\n"
            + "pekko.scheduler.tick-duration = 1ms\n"
            + BUCKET_DISPATCHER + " {\n"
            + "  type = Dispatcher\n"
            + "  executor = \"" + SpinningExecutor.class.getName() + "\"\n"
            + "  pool-size = " + settings.bucketThreads() + "\n"
            + "  spin-ns = " + settings.idleSpinNs() + "\n"
            + "  help-key = \"" + helpKey + "\"\n"
            // One message per turn: a bucket's drain message is bounded work, and other buckets on the thread
            // (and the admin actor) get their turn after it rather than after 64 of them.
            + "  throughput = 1\n"
            + "}\n")
            .withFallback(ConfigFactory.load());
    }

    /**
     * A packet worker for one packet thread, connected to every bucket.
     *
     * @param maxInFlight batches it may have in flight (a power of two).
     */
    public PacketWorker newWorker(final int maxInFlight)
    {
        final int id = nextWorkerId.getAndIncrement();
        final PacketWorker worker = new PacketWorker(id, driver.aeron(), settings.transport(), settings.bucketBits(),
            doorbells, settings.fragments(), new EngineCounters(), maxInFlight).driverDuty(driver.duty());
        try
        {
            final List<CompletableFuture<BucketActor.Done>> connected = new ArrayList<>();
            for (final ActorRef<BucketActor.Command> bucket : buckets)
            {
                connected.add(AskPattern.<BucketActor.Command, BucketActor.Done>ask(bucket,
                    replyTo -> new BucketActor.ConnectWorker(id, replyTo), ASK_TIMEOUT, system.scheduler())
                    .toCompletableFuture());
            }
            CompletableFuture.allOf(connected.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!worker.isConnected())
            {
                if (System.nanoTime() > deadline)
                {
                    throw new IllegalStateException("worker " + id + " could not connect to every bucket stream");
                }
                Thread.sleep(1);
            }
        }
        catch (final Exception ex)
        {
            worker.close();
            throw ex instanceof RuntimeException ? (RuntimeException)ex : new IllegalStateException(ex);
        }
        final SpinningExecutor.SpinQueue queue = bucketQueue();
        if (queue != null)
        {
            worker.helper(queue::helpOnce);
        }
        workers.add(worker);
        updateBucketHelp();
        return worker;
    }

    /** Sets whether packet threads run bucket work while they wait ({@link BucketHelp}; default {@code AUTO}). */
    public ShardedNode bucketHelp(final BucketHelp help)
    {
        this.bucketHelp = help;
        updateBucketHelp();
        return this;
    }

    /** Whether packet threads help now. */
    public boolean bucketHelpOn()
    {
        final SpinningExecutor.SpinQueue queue = bucketQueue();
        return queue != null && queue.helping();
    }

    private SpinningExecutor.SpinQueue bucketQueue()
    {
        final SpinningExecutor.SpinQueue queue = bucketQueue.get();
        if (queue != null)
        {
            return queue;
        }
        // The executor leaves its queue under the node's key when it is created; whoever takes it first keeps it.
        bucketQueue.compareAndSet(null, SpinningExecutor.takeQueue(helpKey));
        return bucketQueue.get();
    }

    private void updateBucketHelp()
    {
        final SpinningExecutor.SpinQueue queue = bucketQueue();
        if (queue != null)
        {
            final BucketHelp help = bucketHelp;
            queue.helping(help == BucketHelp.ON
                || help == BucketHelp.AUTO && workers.size() >= Runtime.getRuntime().availableProcessors());
        }
    }

    /** Closes a worker and forgets it. */
    public void closeWorker(final PacketWorker worker)
    {
        if (workers.remove(worker))
        {
            final long[] values = new long[EngineCounter.count()];
            worker.counters().addTo(values);
            for (int i = 0; i < values.length; i++)
            {
                retiredWorkerCounters.addAndGet(i, values[i]);
            }
            updateBucketHelp();
        }
        worker.close();
    }

    /** Asks the admin actor and waits for the answer. */
    public <R> R ask(final org.apache.pekko.japi.function.Function<ActorRef<R>, AdminActor.Command> command)
    {
        try
        {
            final CompletableFuture<R> answer =
                AskPattern.ask(admin, command, ASK_TIMEOUT, system.scheduler()).toCompletableFuture();
            // Most commands answer within a hundred microseconds or so: wait that long without parking the caller
            // (a park and wake-up alone costs tens of microseconds), then block.
            final long spinUntil = System.nanoTime() + ASK_SPIN_NS;
            while (!answer.isDone() && System.nanoTime() - spinUntil < 0)
            {
                Thread.onSpinWait();
            }
            return answer.get(ASK_TIMEOUT.toMillis() + 1000, TimeUnit.MILLISECONDS);
        }
        catch (final Exception ex)
        {
            throw new IllegalStateException("admin command failed: " + ex.getMessage(), ex);
        }
    }

    public ActorRef<AdminActor.Command> admin()
    {
        return admin;
    }

    public ActorSystem<Void> system()
    {
        return system;
    }

    /**
     * Installs the pipeline the buckets evaluate for single-pass batches (the same object the workers' runners
     * use: flows are named by id). Replacing it is how rules change; a batch of an older generation is left to its
     * worker.
     */
    public void flowTables(final io.ctrack.engine.flow.FlowTables tables)
    {
        bucketStates.get(0).flowTables.set(tables);
    }

    public SharedLimits limits()
    {
        return limits;
    }

    public NodeSettings settings()
    {
        return settings;
    }

    public int buckets()
    {
        return buckets.size();
    }

    public List<ActorRef<BucketActor.Command>> bucketRefs()
    {
        return buckets;
    }

    /** Counter values of one bucket (read while it runs). */
    public long bucketCounter(final int bucket, final EngineCounter counter)
    {
        return bucketStates.get(bucket).counters.get(counter);
    }

    /** Counters summed over buckets and workers, by counter id. */
    public long[] counterTotals()
    {
        final long[] totals = new long[EngineCounter.count()];
        for (final BucketState state : bucketStates)
        {
            state.counters.addTo(totals);
        }
        for (final PacketWorker worker : workers)
        {
            worker.counters().addTo(totals);
        }
        for (int i = 0; i < totals.length; i++)
        {
            totals[i] += retiredWorkerCounters.get(i);
        }
        return totals;
    }

    /**
     * Expiry lateness over all buckets: bucket counts of {@link io.ctrack.engine.status.LatencyHistogram} summed
     * into {@code into}; returns the largest lateness seen (ms).
     */
    public long lateness(final long[] into)
    {
        long max = 0;
        for (final BucketState state : bucketStates)
        {
            state.table.lateness().addTo(into);
            max = Math.max(max, state.table.lateness().maxMs());
        }
        return max;
    }

    /** Times bucket {@code bucket}'s behavior was restarted by its supervisor. */
    public long bucketRestarts(final int bucket)
    {
        return bucketStates.get(bucket).restarts;
    }

    @Override
    public void close()
    {
        system.terminate();
        awaitTermination(system);
        driver.resumeOwnPump();
        for (final PacketWorker worker : workers)
        {
            CloseHelper.quietClose(worker);
        }
        workers.clear();
        for (final BucketState state : bucketStates)
        {
            CloseHelper.quietClose(state.endpoint);
        }
        CloseHelper.quietClose(driver);
        // Forget the executor's queue if no worker ever took it.
        SpinningExecutor.takeQueue(helpKey);
    }

    private static void awaitTermination(final ActorSystem<Void> system)
    {
        try
        {
            system.getWhenTerminated().toCompletableFuture().get(20, TimeUnit.SECONDS);
        }
        catch (final Exception ex)
        {
            // Terminating anyway: the process may be exiting; nothing else holds the system.
        }
    }
}
