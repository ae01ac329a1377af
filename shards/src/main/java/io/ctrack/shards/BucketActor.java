package io.ctrack.shards;

import io.ctrack.engine.ct.ConnMatch;
import io.ctrack.engine.ct.DumpFormat;
import io.ctrack.engine.key.ConnKey;
import io.ctrack.engine.key.CtRequest;
import io.ctrack.engine.table.ConnTable;
import io.ctrack.transport.BucketEndpoint;
import io.ctrack.transport.Doorbells;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

import java.util.ArrayList;
import java.util.List;

/**
 * One hash bucket: the only owner of its {@link ConnTable}. Packets reach it over its Aeron stream, never as
 * messages: a {@link #WAKE} (rung by a publisher's doorbell) or its own {@code Drain} makes it poll the stream in
 * bounded steps ({@code batchesPerDrain} batches, then it yields by sending itself another {@code Drain}); when the
 * stream has stayed empty for {@code idleSpinNs} (polling between the other actors' messages) it parks and waits
 * for the next doorbell (its thread spins a while longer for any work, see {@link SpinningExecutor}). Admin work that touches many
 * connections (flushes, dumps) is done in slices interleaved with packet batches, so verdict latency stays
 * bounded while it runs.
 * <p>
 * Supervision restarts the behavior on failure with the same {@link BucketState}: the table survives.
 */
public final class BucketActor extends AbstractBehavior<BucketActor.Command>
{
    /**
     * Connections removed (or examined, for a filtered flush) per flush slice. Removing a connection from a table of
     * a million costs ~130 ns (cache misses on the index and the expiry wheel), so a slice is ~4 µs, and a batch
     * spread over the four flushing buckets of a thread waits for a round of four slices (bench flush 1000000: p99
     * 81-86 µs with 32, 0.3-1.3 ms with 128, for a flush 25 % longer).
     */
    static final int REMOVE_SLICE = 32;
    /** Connections examined per dump slice (formatting a line costs about a microsecond). */
    static final int DUMP_SLICE = 128;

    /** Messages a bucket understands. */
    public sealed interface Command permits Wake, Drain, FlushZone, FlushAll, FlushKey, FlushMatching, DumpSlice,
        CountConns, SetTimeoutPolicy, SetZonePolicy, DeleteTimeoutPolicy, SetSequenceCheck, ConnectWorker,
        InjectFault, SweepStep, Reserve, Reserved, ReleaseAlias, FlushRef, NatLinks
    {
    }

    /** Rung by a publisher when the bucket was parked. */
    enum Wake implements Command
    {
        INSTANCE
    }

    /** The bucket's own "keep draining" message. */
    private enum Drain implements Command
    {
        INSTANCE
    }

    public static final Command WAKE = Wake.INSTANCE;

    /** Removes every connection of {@code zone}, in slices; replies with the number removed. */
    public record FlushZone(int zone, ActorRef<Flushed> replyTo, long removedSoFar) implements Command
    {
    }

    /** Removes every connection, in slices. */
    public record FlushAll(ActorRef<Flushed> replyTo, long removedSoFar) implements Command
    {
    }

    /** Removes the connection whose original or reply key is {@code key} (Open vSwitch's flush by tuple). */
    public record FlushKey(ConnKey key, ActorRef<Flushed> replyTo) implements Command
    {
    }

    /** Removes every connection matching {@code match} (in {@code zone}, or all zones if negative), in slices. */
    public record FlushMatching(int zone, ConnMatch match, long cursor, ActorRef<Flushed> replyTo, long removedSoFar)
        implements Command
    {
    }

    /**
     * One slice of a dump: connections from {@code cursor} on, formatted as dump-conntrack lines with
     * {@code options} ({@link io.ctrack.engine.ct.DumpFormat#MORE}, {@link io.ctrack.engine.ct.DumpFormat#STATISTICS}).
     */
    public record DumpSlice(int zone, int options, long cursor, ActorRef<Dumped> replyTo) implements Command
    {
    }

    public record CountConns(ActorRef<Counted> replyTo) implements Command
    {
    }

    public record SetTimeoutPolicy(int policyId, int[] seconds, ActorRef<Done> replyTo) implements Command
    {
        public SetTimeoutPolicy
        {
            seconds = seconds.clone();
        }
    }

    public record DeleteTimeoutPolicy(int policyId, ActorRef<Done> replyTo) implements Command
    {
    }

    public record SetZonePolicy(int zone, int policyId, ActorRef<Done> replyTo) implements Command
    {
    }

    public record SetSequenceCheck(boolean enabled, ActorRef<Done> replyTo) implements Command
    {
    }

    /** Creates the verdict stream to a new worker; replies once it exists. */
    public record ConnectWorker(int workerId, ActorRef<Done> replyTo) implements Command
    {
    }

    /**
     * Makes the behavior throw, to exercise supervision (tests, chaos drills): at once, or, if
     * {@code afterRequests} is not negative, while tracking the request that many requests from now (in the middle
     * of a batch: that request and the rest of its batch are answered "dropped: bucket failure").
     */
    public record InjectFault(String reason, int afterRequests) implements Command
    {
    }

    /** Removes at most {@code budget} expired connections as of {@code nowMs}. */
    public record SweepStep(int budget, long nowMs, ActorRef<Swept> replyTo) implements Command
    {
    }

    /** Reply: connections removed. */
    public record Flushed(int bucket, long removed)
    {
    }

    /** Reply: a dump slice; {@code nextCursor} is {@link ConnTable#SCAN_DONE} when the bucket is done. */
    public record Dumped(int bucket, List<String> lines, long nextCursor)
    {
    }

    public record Counted(int bucket, int connections)
    {
    }

    public record Done(int bucket)
    {
    }

    /**
     * From the bucket owning translated connection {@code ownerRef} ({@code connId}): reserve {@code key}, its reply
     * tuple, which hashes to this bucket (DESIGN invariant 4).
     */
    public record Reserve(ConnKey key, int ownerBucket, int ownerRef, long connId, ActorRef<Command> replyTo)
        implements Command
    {
    }

    /** The answer to a {@link Reserve}, from bucket {@code bucket}. */
    public record Reserved(int bucket, ConnKey key, int ownerRef, long connId, boolean granted) implements Command
    {
    }

    /** The owner's connection {@code connId} is gone: remove its alias for {@code key}. */
    public record ReleaseAlias(ConnKey key, int ownerBucket, long connId) implements Command
    {
    }

    /** Flush by tuple that matched an alias: remove the owner's connection if it is still {@code connId}. */
    public record FlushRef(int ref, long connId, ActorRef<Flushed> replyTo) implements Command
    {
    }

    /** Asks for the bucket's NAT links: its aliases and its connections whose reply tuple is an alias elsewhere. */
    public record NatLinks(ActorRef<NatLinksReply> replyTo) implements Command
    {
    }

    /**
     * A bucket's NAT links: {@code aliases} as "key owner=B id=N", {@code owned} as "key alias=B id=N" (keys in
     * {@link ConnKey}'s text), and the reservations in flight and packets held for them.
     */
    public record NatLinksReply(int bucket, List<String> aliases, List<String> owned, int pending, int held)
    {
    }

    /** Reply to a sweep step: removed, whether expired slots remain, and when the next is due. */
    public record Swept(int bucket, int removed, boolean behind, long nextDueMs)
    {
    }

    private final BucketState state;
    private final Doorbells doorbells;
    private final int batchesPerDrain;
    private final long idleSpinNs;
    /** When the stream was first found empty in the current idle spell (0: not idle). */
    private long idleSinceNs;
    /** When this bucket last ran the media driver's duty while idle. */
    private long lastDutyNs;
    /**
     * Shortest time between two of an idle bucket's duty cycles. A stream of 1 MiB terms needs its limit moved about
     * every 500 KiB, a millisecond or more of traffic at full rate.
     */
    private static final long DUTY_PERIOD_NS = 10_000;
    /** How long an idle bucket looks at its stream inside one message before it goes round its mailbox. */
    private static final long IDLE_LOOK_NS = 1_000;
    /** The latest time a sweep was asked for, with the latest batch time: the bucket's clock for admin work. */
    private long latestSweepNowMs;
    private final BucketEndpoint.BatchProcessor processor;
    private final java.util.function.IntFunction<ActorRef<Command>> bucketRefs;

    private BucketActor(final ActorContext<Command> context, final BucketState state, final Doorbells doorbells,
        final int batchesPerDrain, final long idleSpinNs, final java.util.function.IntFunction<ActorRef<Command>> bucketRefs)
    {
        super(context);
        this.bucketRefs = bucketRefs;
        this.idleSpinNs = idleSpinNs;
        this.state = state;
        this.doorbells = doorbells;
        this.batchesPerDrain = batchesPerDrain;
        this.processor = new BucketProcessor(state);
        state.nat.bind(context.getSelf());
        // Started or restarted: whatever was parked or in flight, look at the stream now.
        doorbells.unpark(state.bucketId);
        context.getSelf().tell(Drain.INSTANCE);
    }

    /** The bucket's behavior, supervised so that a failure restarts it with the same state. */
    static Behavior<Command> create(final BucketState state, final Doorbells doorbells, final int batchesPerDrain,
        final long idleSpinNs, final java.util.function.IntFunction<ActorRef<Command>> bucketRefs)
    {
        return Behaviors.supervise(Behaviors.<Command>setup(
            context -> new BucketActor(context, state, doorbells, batchesPerDrain, idleSpinNs, bucketRefs)))
            .onFailure(SupervisorStrategy.restart().withLoggingEnabled(true));
    }

    @Override
    public Receive<Command> createReceive()
    {
        return newReceiveBuilder()
            .onMessageEquals(Wake.INSTANCE, this::onDrain)
            .onMessageEquals(Drain.INSTANCE, this::onDrain)
            .onMessage(FlushZone.class, this::onFlushZone)
            .onMessage(FlushAll.class, this::onFlushAll)
            .onMessage(FlushKey.class, this::onFlushKey)
            .onMessage(FlushMatching.class, this::onFlushMatching)
            .onMessage(DumpSlice.class, this::onDumpSlice)
            .onMessage(CountConns.class, this::onCount)
            .onMessage(SetTimeoutPolicy.class, this::onSetTimeoutPolicy)
            .onMessage(DeleteTimeoutPolicy.class, this::onDeleteTimeoutPolicy)
            .onMessage(SetZonePolicy.class, this::onSetZonePolicy)
            .onMessage(SetSequenceCheck.class, this::onSetSequenceCheck)
            .onMessage(ConnectWorker.class, this::onConnectWorker)
            .onMessage(InjectFault.class, this::onInjectFault)
            .onMessage(SweepStep.class, this::onSweepStep)
            .onMessage(Reserve.class, this::onReserve)
            .onMessage(Reserved.class, this::onReserved)
            .onMessage(ReleaseAlias.class, this::onReleaseAlias)
            .onMessage(FlushRef.class, this::onFlushRef)
            .onMessage(NatLinks.class, this::onNatLinks)
            .onSignal(PreRestart.class, signal -> onRestart())
            .onSignal(PostStop.class, signal -> this)
            .build();
    }

    /**
     * The bucket's "now" for admin work (dump, flush): the latest time it was given by a batch or a sweep step,
     * so connections tracked on another clock (a capture's) are judged on that clock; the wall clock only before
     * anything was given.
     */
    private long clockMs()
    {
        final long given = Math.max(state.endpoint.latestNowMs(), latestSweepNowMs);
        return given != 0 ? given : System.currentTimeMillis();
    }

    private Behavior<Command> onRestart()
    {
        state.restarts++;
        return Behaviors.same();
    }

    private Behavior<Command> onDrain()
    {
        final int bucket = state.bucketId;
        final boolean natBacklog = state.nat.upkeep();
        // Poll until the stream is empty, bounded by batchesPerDrain batches: a message to ourselves per batch would
        // cost as much as the batch. No waiting for more inside the handler: with several buckets on a thread, a
        // batch spread over them would wait for each one's wait in turn (a synchronous caller's round trip grew from
        // 5 to 30 us with 4 buckets and a 5 us wait). The idle spin below goes through the mailbox instead.
        int processed = 0;
        boolean heldBack = false;
        while (processed < batchesPerDrain)
        {
            final int n = state.endpoint.poll(batchesPerDrain - processed, processor);
            heldBack = state.endpoint.heldBack();
            processed += n;
            if (n == 0 || heldBack)
            {
                break;
            }
        }
        if (heldBack && state.driverDuty != null)
        {
            // Waiting for room on a worker's verdict stream: that room appears when the media driver next moves the
            // publication's limit. Run its duty now rather than wait for a worker or the pump to (up to 1 ms).
            state.driverDuty.tryInvoke();
        }
        if (state.nat.hasReleases())
        {
            state.nat.upkeep();
        }
        if (processed > 0 || heldBack || natBacklog)
        {
            // More may be waiting, or a batch waits for room on a worker's verdict stream (or NAT messages wait
            // for room on a stream): come back after whatever else is in the mailbox.
            idleSinceNs = 0;
            getContext().getSelf().tell(Drain.INSTANCE);
            return Behaviors.same();
        }
        final long now = System.nanoTime();
        if (state.driverDuty != null && now - lastDutyNs >= DUTY_PERIOD_NS)
        {
            // An idle bucket runs the media driver's duty (INVOKER mode): moving stream limits and zeroing consumed
            // stream space is work the packet threads would otherwise do between their batches (~5 % of a packet
            // thread's profile at full rate; bench established ~11 % faster without it), and an idle bucket's
            // thread has nothing better to do. Not on every idle look: other buckets of this thread may be busy,
            // and a limit needs moving far less often.
            lastDutyNs = now;
            state.driverDuty.tryInvoke();
        }
        // Stream empty. Keep coming back for idleSpinNs (through the mailbox: with the dispatcher's throughput of 1,
        // every other actor of this thread gets its turn in between) before parking: a parked bucket costs its
        // publisher a wake-up message per batch, which costs more than the polls.
        if (idleSinceNs == 0)
        {
            idleSinceNs = now;
        }
        if (now - idleSinceNs < idleSpinNs)
        {
            // Look again here for up to IDLE_LOOK_NS before going round the mailbox: every trip through it allocates
            // (an envelope and queue nodes), and an idle bucket going round it millions of times a second kept the
            // collector busy (a young collection a second under steady traffic). The other actors of the thread
            // wait at most that long.
            final long lookUntil = now + IDLE_LOOK_NS;
            int looks = 0;
            while (true)
            {
                if (state.endpoint.poll(batchesPerDrain, processor) > 0 || state.endpoint.heldBack())
                {
                    idleSinceNs = 0;
                    break;
                }
                if ((++looks & 7) == 0 && System.nanoTime() - lookUntil >= 0)
                {
                    break;
                }
                Thread.onSpinWait();
            }
            getContext().getSelf().tell(Drain.INSTANCE);
            return Behaviors.same();
        }
        idleSinceNs = 0;
        // Park. The thread itself keeps looking for work a while longer (SpinningExecutor), so a doorbell's
        // wake-up is served without a thread wake-up when traffic resumes soon.
        doorbells.park(bucket);
        // Poll once more after parking, so a batch committed just before the park is not left waiting (nor one held
        // back for verdict room: no doorbell will come for it).
        final int more = state.endpoint.poll(batchesPerDrain, processor);
        if ((more > 0 || state.endpoint.heldBack()) && doorbells.unpark(bucket))
        {
            getContext().getSelf().tell(Drain.INSTANCE);
        }
        return Behaviors.same();
    }

    // ---- NAT across buckets ---------------------------------------------------------------------------------

    private Behavior<Command> onReserve(final Reserve reserve)
    {
        state.nat.onReserve(reserve, clockMs());
        return Behaviors.same();
    }

    private Behavior<Command> onReserved(final Reserved reserved)
    {
        state.nat.onReserved(reserved, clockMs());
        state.nat.upkeep();
        return Behaviors.same();
    }

    private Behavior<Command> onReleaseAlias(final ReleaseAlias release)
    {
        state.nat.onRelease(release, clockMs());
        return Behaviors.same();
    }

    private Behavior<Command> onFlushRef(final FlushRef command)
    {
        final boolean found = state.table.flushRef(command.ref(), command.connId());
        state.nat.upkeep();
        command.replyTo().tell(new Flushed(state.bucketId, found ? 1 : 0));
        return Behaviors.same();
    }

    private Behavior<Command> onNatLinks(final NatLinks command)
    {
        final List<String> aliases = new ArrayList<>();
        final List<String> owned = new ArrayList<>();
        state.table.forEachNatLink(
            (ownerBucket, ownerRef, connId, key) -> aliases.add(ConnKey.of(key) + " owner=" + ownerBucket + " id=" + connId),
            (aliasBucket, ref, connId, key) -> owned.add(ConnKey.of(key) + " alias=" + aliasBucket + " id=" + connId));
        command.replyTo().tell(new NatLinksReply(state.bucketId, aliases, owned, state.table.pendingCount(),
            state.nat.heldCount()));
        return Behaviors.same();
    }

    private Behavior<Command> onFlushZone(final FlushZone command)
    {
        final int removed = state.table.flushZone(command.zone(), REMOVE_SLICE);
        final long total = command.removedSoFar() + removed;
        if (state.table.zoneSize(command.zone()) > 0)
        {
            getContext().getSelf().tell(new FlushZone(command.zone(), command.replyTo(), total));
        }
        else
        {
            command.replyTo().tell(new Flushed(state.bucketId, total));
        }
        state.nat.upkeep();
        return Behaviors.same();
    }

    private Behavior<Command> onFlushAll(final FlushAll command)
    {
        final int removed = state.table.flushAll(REMOVE_SLICE);
        final long total = command.removedSoFar() + removed;
        if (state.table.size() > 0)
        {
            getContext().getSelf().tell(new FlushAll(command.replyTo(), total));
        }
        else
        {
            command.replyTo().tell(new Flushed(state.bucketId, total));
        }
        state.nat.upkeep();
        return Behaviors.same();
    }

    private Behavior<Command> onFlushKey(final FlushKey command)
    {
        final CtRequest key = command.key().toRequest(new CtRequest());
        final boolean found = state.table.flushKey(key, clockMs());
        if (!found)
        {
            final int alias = state.table.findAlias(key, clockMs());
            if (alias != 0)
            {
                // The reply tuple of another bucket's translated connection: its owner removes it.
                bucketRefs.apply(state.table.aliasOwnerBucket(alias)).tell(new FlushRef(state.table.aliasOwnerRef(alias),
                    state.table.aliasConnId(alias), command.replyTo()));
                return Behaviors.same();
            }
        }
        state.nat.upkeep();
        command.replyTo().tell(new Flushed(state.bucketId, found ? 1 : 0));
        return Behaviors.same();
    }

    private Behavior<Command> onFlushMatching(final FlushMatching command)
    {
        final int zone = command.zone();
        final ConnMatch match = command.match();
        final long[] removed = { 0 };
        final long next = state.table.scan(command.cursor(), REMOVE_SLICE, clockMs(), null, e ->
        {
            final boolean hit = (zone < 0 || e.zone() == zone) && match.matches(e);
            removed[0] += hit ? 1 : 0;
            return hit;
        });
        final long total = command.removedSoFar() + removed[0];
        if (next != ConnTable.SCAN_DONE)
        {
            getContext().getSelf().tell(new FlushMatching(zone, match, next, command.replyTo(), total));
        }
        else
        {
            command.replyTo().tell(new Flushed(state.bucketId, total));
        }
        state.nat.upkeep();
        return Behaviors.same();
    }

    private Behavior<Command> onDumpSlice(final DumpSlice command)
    {
        final List<String> lines = new ArrayList<>();
        final int zone = command.zone();
        final long nowMs = clockMs();
        final long next = state.table.scan(command.cursor(), DUMP_SLICE, nowMs, e ->
        {
            if (zone < 0 || e.zone() == zone)
            {
                lines.add(DumpFormat.format(e, command.options(), nowMs));
            }
        }, null);
        command.replyTo().tell(new Dumped(state.bucketId, lines, next));
        return Behaviors.same();
    }

    private Behavior<Command> onCount(final CountConns command)
    {
        command.replyTo().tell(new Counted(state.bucketId, state.table.size()));
        return Behaviors.same();
    }

    private Behavior<Command> onSetTimeoutPolicy(final SetTimeoutPolicy command)
    {
        state.policies.setPolicy(command.policyId(), command.seconds());
        command.replyTo().tell(new Done(state.bucketId));
        return Behaviors.same();
    }

    private Behavior<Command> onDeleteTimeoutPolicy(final DeleteTimeoutPolicy command)
    {
        state.policies.deletePolicy(command.policyId());
        command.replyTo().tell(new Done(state.bucketId));
        return Behaviors.same();
    }

    private Behavior<Command> onSetZonePolicy(final SetZonePolicy command)
    {
        state.policies.setZonePolicy(command.zone(), command.policyId());
        command.replyTo().tell(new Done(state.bucketId));
        return Behaviors.same();
    }

    private Behavior<Command> onSetSequenceCheck(final SetSequenceCheck command)
    {
        state.table.sequenceCheck(command.enabled());
        command.replyTo().tell(new Done(state.bucketId));
        return Behaviors.same();
    }

    private Behavior<Command> onConnectWorker(final ConnectWorker command)
    {
        if (state.endpoint.connectWorker(command.workerId()))
        {
            command.replyTo().tell(new Done(state.bucketId));
        }
        else
        {
            // The media driver is creating the stream; look again shortly, without blocking this thread.
            getContext().scheduleOnce(java.time.Duration.ofMillis(1), getContext().getSelf(), command);
        }
        return Behaviors.same();
    }

    private Behavior<Command> onInjectFault(final InjectFault command)
    {
        if (command.afterRequests() >= 0)
        {
            state.faultAfterRequests = command.afterRequests();
            return Behaviors.same();
        }
        throw new IllegalStateException("fault injected into bucket " + state.bucketId + ": " + command.reason());
    }

    private Behavior<Command> onSweepStep(final SweepStep command)
    {
        final long start = System.nanoTime();
        latestSweepNowMs = Math.max(latestSweepNowMs, command.nowMs());
        final int removed = state.table.sweep(command.nowMs(), command.budget());
        state.counters.add(io.ctrack.engine.status.EngineCounter.SWEEP_NANOS, System.nanoTime() - start);
        command.replyTo().tell(new Swept(state.bucketId, removed, state.table.sweepBehind(command.nowMs()),
            state.table.nextSweepDueMs()));
        state.nat.upkeep();
        return Behaviors.same();
    }
}
