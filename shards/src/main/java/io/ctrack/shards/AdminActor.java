package io.ctrack.shards;

import io.ctrack.engine.ct.ConnMatch;
import io.ctrack.engine.key.ConnKey;
import io.ctrack.engine.table.ConnTable;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The node's control plane: typed admin commands, fanned out to the buckets and aggregated (one short-lived child
 * per request). Commands that touch many connections are carried out by the buckets in slices; dumps are pulled a
 * slice at a time, so neither a flush nor a dump of millions of connections stalls packet processing or fills a
 * mailbox. Limits live in the shared, lock-free {@link SharedLimits}; counters are read without messages.
 */
public final class AdminActor extends AbstractBehavior<AdminActor.Command>
{
    /** A full-tuple flush that found no connection: Open vSwitch's message (its flush fails with ENOENT). */
    public static final String TUPLE_NOT_FOUND = "failed to flush conntrack (No such file or directory)";

    /** Admin commands. */
    public sealed interface Command permits FlushAll, FlushZone, FlushMatching, Dump, GetNConns,
        SetMaxConns, GetMaxConns, SetZoneLimits, DeleteZoneLimits, GetZoneLimits, SetTimeoutPolicy,
        DeleteTimeoutPolicy, SetZonePolicy, SetTcpSeqCheck, CountConnections, FailBucket, FanOut.Free, CheckNat
    {
    }

    /** Outcome of a command: ok with a text for a person, or an error message. */
    public record Result(boolean ok, String text, long value)
    {
        static Result ok(final String text, final long value)
        {
            return new Result(true, text, value);
        }

        static Result error(final String text)
        {
            return new Result(false, text, 0);
        }
    }

    public record FlushAll(ActorRef<Result> replyTo) implements Command
    {
    }

    public record FlushZone(int zone, ActorRef<Result> replyTo) implements Command
    {
    }

    /**
     * Flushes by match (Open vSwitch's {@code flush-conntrack [zone=N] ct-orig-tuple [ct-reply-tuple]}): a full
     * original tuple is removed by lookup in {@code zone} (0 if none given); a partial one by scanning
     * ({@code zone} or all zones if negative).
     */
    public record FlushMatching(int zone, ConnMatch match, ActorRef<Result> replyTo) implements Command
    {
    }

    /**
     * Starts a dump ({@code zone} &lt; 0: all zones) with {@code options} ({@link io.ctrack.engine.ct.DumpFormat#MORE},
     * {@link io.ctrack.engine.ct.DumpFormat#STATISTICS}); the answer comes as {@link DumpChunk}s, the next one sent
     * when the requester sends the chunk's {@code more} a {@link DumpNext}.
     */
    public record Dump(int zone, int options, ActorRef<DumpChunk> replyTo) implements Command
    {
        /** A dump in the plain format. */
        public Dump(final int zone, final ActorRef<DumpChunk> replyTo)
        {
            this(zone, 0, replyTo);
        }
    }

    /** Some dump lines; {@code last} ends the dump; {@code more} takes the request for the next chunk. */
    public record DumpChunk(List<String> lines, boolean last, ActorRef<DumpNext> more)
    {
    }

    /** Asks a dump in progress for its next chunk. */
    public record DumpNext(ActorRef<DumpChunk> replyTo)
    {
    }

    public record GetNConns(ActorRef<Result> replyTo) implements Command
    {
    }

    public record SetMaxConns(long maxConns, ActorRef<Result> replyTo) implements Command
    {
    }

    public record GetMaxConns(ActorRef<Result> replyTo) implements Command
    {
    }

    /** {@code defaultLimit} null leaves the default alone; each zone/limit pair is set. */
    public record SetZoneLimits(Integer defaultLimit, List<int[]> zoneLimits, ActorRef<Result> replyTo) implements Command
    {
    }

    public record DeleteZoneLimits(boolean deleteDefault, List<Integer> zones, ActorRef<Result> replyTo)
        implements Command
    {
    }

    /** {@code zones} empty: every zone with a limit. */
    public record GetZoneLimits(List<Integer> zones, ActorRef<Result> replyTo) implements Command
    {
    }

    public record SetTimeoutPolicy(int policyId, int[] seconds, ActorRef<Result> replyTo) implements Command
    {
        public SetTimeoutPolicy
        {
            seconds = seconds.clone();
        }
    }

    public record DeleteTimeoutPolicy(int policyId, ActorRef<Result> replyTo) implements Command
    {
    }

    public record SetZonePolicy(int zone, int policyId, ActorRef<Result> replyTo) implements Command
    {
    }

    public record SetTcpSeqCheck(boolean enabled, ActorRef<Result> replyTo) implements Command
    {
    }

    /** Connections in the buckets' tables right now (including expired ones not swept yet). */
    public record CountConnections(ActorRef<Result> replyTo) implements Command
    {
    }

    /**
     * Checks that every alias has its owner and every translated connection with a remote reply tuple its alias
     * (meaningful once no reservation or release is in flight). Answers ok with the counts, or an error naming the
     * first mismatches.
     */
    public record CheckNat(ActorRef<Result> replyTo) implements Command
    {
    }

    /** Makes one bucket's behavior throw (supervision drills and tests). */
    public record FailBucket(int bucket, ActorRef<Result> replyTo) implements Command
    {
    }

    /** Shorter than {@code ShardedNode}'s ask timeout, so a requester hears "timed out" rather than nothing. */
    private static final Duration TIMEOUT = Duration.ofSeconds(25);
    /** Children run where the admin actor runs (the bucket dispatcher): fewer thread hand-offs per command. */
    private static final org.apache.pekko.actor.typed.Props SAME_DISPATCHER =
        org.apache.pekko.actor.typed.DispatcherSelector.sameAsParent();
    /** Collectors kept for reuse; more are spawned while many commands are in progress at once. */
    private static final int MAX_FREE_COLLECTORS = 8;

    private final List<ActorRef<BucketActor.Command>> buckets;
    private final SharedLimits limits;
    private final int bucketBits;
    private final java.util.ArrayDeque<ActorRef<Object>> freeCollectors = new java.util.ArrayDeque<>();

    private AdminActor(final ActorContext<Command> context, final List<ActorRef<BucketActor.Command>> buckets,
        final SharedLimits limits, final int bucketBits)
    {
        super(context);
        this.buckets = List.copyOf(buckets);
        this.limits = limits;
        this.bucketBits = bucketBits;
    }

    static Behavior<Command> create(final List<ActorRef<BucketActor.Command>> buckets, final SharedLimits limits,
        final int bucketBits)
    {
        return Behaviors.setup(context -> new AdminActor(context, buckets, limits, bucketBits));
    }

    @Override
    public Receive<Command> createReceive()
    {
        return newReceiveBuilder()
            .onMessage(FlushAll.class, this::onFlushAll)
            .onMessage(FlushZone.class, this::onFlushZone)
            .onMessage(FlushMatching.class, this::onFlushMatching)
            .onMessage(Dump.class, this::onDump)
            .onMessage(GetNConns.class, c -> reply(c.replyTo(), Result.ok(Long.toString(limits.count()), limits.count())))
            .onMessage(SetMaxConns.class, this::onSetMaxConns)
            .onMessage(GetMaxConns.class, c -> reply(c.replyTo(), Result.ok(Long.toString(limits.maxConns()), limits.maxConns())))
            .onMessage(SetZoneLimits.class, this::onSetZoneLimits)
            .onMessage(DeleteZoneLimits.class, this::onDeleteZoneLimits)
            .onMessage(GetZoneLimits.class, this::onGetZoneLimits)
            .onMessage(SetTimeoutPolicy.class, this::onSetTimeoutPolicy)
            .onMessage(DeleteTimeoutPolicy.class, this::onDeleteTimeoutPolicy)
            .onMessage(SetZonePolicy.class, this::onSetZonePolicy)
            .onMessage(SetTcpSeqCheck.class, this::onSetTcpSeqCheck)
            .onMessage(CountConnections.class, this::onCount)
            .onMessage(FailBucket.class, this::onFailBucket)
            .onMessage(FanOut.Free.class, this::onCollectorFree)
            .onMessage(CheckNat.class, this::onCheckNat)
            .build();
    }

    private Behavior<Command> reply(final ActorRef<Result> replyTo, final Result result)
    {
        replyTo.tell(result);
        return this;
    }

    private <R> void fanOut(final java.util.function.BiFunction<ActorRef<BucketActor.Command>, ActorRef<R>,
        BucketActor.Command> command, final java.util.function.Function<List<R>, Result> reduce,
        final ActorRef<Result> replyTo)
    {
        fanOut(buckets, command, replies ->
            replies == null ? Result.error("timed out waiting for the buckets") : reduce.apply(replies), replyTo);
    }

    private <R> void fanOut(final List<ActorRef<BucketActor.Command>> targets,
        final java.util.function.BiFunction<ActorRef<BucketActor.Command>, ActorRef<R>, BucketActor.Command> command,
        final java.util.function.Function<List<R>, Result> reduce, final ActorRef<Result> replyTo)
    {
        ActorRef<Object> collector = freeCollectors.pollFirst();
        if (collector == null)
        {
            collector = getContext().spawnAnonymous(FanOut.create(getContext().getSelf()), SAME_DISPATCHER);
        }
        collector.tell(new FanOut.Job<>(targets, command, reduce, replyTo, TIMEOUT));
    }

    private Behavior<Command> onCheckNat(final CheckNat command)
    {
        this.<BucketActor.NatLinksReply>fanOut((bucket, self) -> new BucketActor.NatLinks(self), AdminActor::natReport,
            command.replyTo());
        return this;
    }

    /** Pairs aliases with owners: "key owner=O id=N" in bucket A must match "key alias=A id=N" in bucket O. */
    private static Result natReport(final List<BucketActor.NatLinksReply> replies)
    {
        final java.util.Set<String> fromAliases = new java.util.TreeSet<>();
        final java.util.Set<String> fromOwners = new java.util.TreeSet<>();
        int pending = 0;
        int held = 0;
        for (final BucketActor.NatLinksReply r : replies)
        {
            for (final String a : r.aliases())
            {
                // key owner=O id=N held by bucket A  ->  key A->O N
                final String key = a.substring(0, a.indexOf(" owner="));
                final String owner = a.substring(a.indexOf(" owner=") + 7, a.indexOf(" id="));
                fromAliases.add(key + " " + r.bucket() + "->" + owner + " " + a.substring(a.indexOf(" id=") + 4));
            }
            for (final String o : r.owned())
            {
                final String key = o.substring(0, o.indexOf(" alias="));
                final String alias = o.substring(o.indexOf(" alias=") + 7, o.indexOf(" id="));
                fromOwners.add(key + " " + alias + "->" + r.bucket() + " " + o.substring(o.indexOf(" id=") + 4));
            }
            pending += r.pending();
            held += r.held();
        }
        final java.util.Set<String> orphans = new java.util.TreeSet<>(fromAliases);
        orphans.removeAll(fromOwners);
        final java.util.Set<String> missing = new java.util.TreeSet<>(fromOwners);
        missing.removeAll(fromAliases);
        if (!orphans.isEmpty() || !missing.isEmpty())
        {
            return Result.error(orphans.size() + " alias(es) without owner " + first(orphans) + ", "
                + missing.size() + " connection(s) without alias " + first(missing));
        }
        return Result.ok(fromAliases.size() + " remote reply tuples, each with its alias; " + pending
            + " reservations in flight, " + held + " packets held", fromAliases.size());
    }

    private static String first(final java.util.Set<String> set)
    {
        return set.isEmpty() ? "" : set.stream().limit(3).toList().toString();
    }

    private Behavior<Command> onCollectorFree(final FanOut.Free free)
    {
        if (freeCollectors.size() < MAX_FREE_COLLECTORS)
        {
            freeCollectors.addFirst(free.collector());
        }
        else
        {
            getContext().stop(free.collector());
        }
        return this;
    }

    private static Result flushed(final List<BucketActor.Flushed> replies)
    {
        long removed = 0;
        for (final BucketActor.Flushed reply : replies)
        {
            removed += reply.removed();
        }
        return Result.ok("flushed " + removed + " connections", removed);
    }

    private Behavior<Command> onFlushAll(final FlushAll command)
    {
        this.<BucketActor.Flushed>fanOut((bucket, self) -> new BucketActor.FlushAll(self, 0), AdminActor::flushed,
            command.replyTo());
        return this;
    }

    private Behavior<Command> onFlushZone(final FlushZone command)
    {
        if (limits.zoneCount(command.zone()) == 0)
        {
            // The zone's exact count says it holds no connection (a commit reserves its count before the connection
            // exists; a removal releases it as the connection goes): nothing for the buckets to do. A commit racing
            // with this answer races with a flush through the buckets just the same.
            return reply(command.replyTo(), Result.ok("flushed 0 connections", 0));
        }
        this.<BucketActor.Flushed>fanOut((bucket, self) -> new BucketActor.FlushZone(command.zone(), self, 0),
            AdminActor::flushed, command.replyTo());
        return this;
    }

    private Behavior<Command> onFlushMatching(final FlushMatching command)
    {
        final ConnMatch match = command.match();
        if (match.isFiveTuple())
        {
            // A whole original tuple: one lookup in the bucket its hash selects (Open vSwitch: conntrack_flush_tuple).
            final ConnMatch.Tuple t = match.orig();
            final boolean icmp = match.proto() == 1 || match.proto() == 58;
            final int srcL4 = icmp ? t.icmpId() << 16 | t.icmpType() << 8 | t.icmpCode() : t.srcPort() << 16;
            final int dstL4 = icmp ? t.icmpId() << 16 | reverseIcmpType(match.proto(), t.icmpType()) << 8 | t.icmpCode()
                : t.dstPort() << 16;
            final ConnKey key = new ConnKey(match.family() == 6, match.proto(), Math.max(0, command.zone()),
                t.srcHi(), t.srcLo(), srcL4, t.dstHi(), t.dstLo(), dstL4);
            final int hash = key.toRequest(new io.ctrack.engine.key.CtRequest()).hash();
            final ActorRef<BucketActor.Command> bucket =
                buckets.get(io.ctrack.transport.PacketWorker.bucketOf(hash, bucketBits));
            this.<BucketActor.Flushed>fanOut(List.of(bucket), (b, self) -> new BucketActor.FlushKey(key, self),
                replies -> replies == null ? Result.error("timed out waiting for the bucket")
                    : replies.get(0).removed() == 0 ? Result.error(TUPLE_NOT_FOUND) : flushed(replies),
                command.replyTo());
            return this;
        }
        this.<BucketActor.Flushed>fanOut((bucket, self) -> new BucketActor.FlushMatching(command.zone(), match,
            ConnTable.SCAN_START, self, 0), AdminActor::flushed, command.replyTo());
        return this;
    }

    private static int reverseIcmpType(final int proto, final int type)
    {
        final int reverse = proto == 1 ? io.ctrack.engine.packet.Protocols.reverseIcmp4Type(type)
            : io.ctrack.engine.packet.Protocols.reverseIcmp6Type(type);
        return Math.max(reverse, 0);
    }

    private Behavior<Command> onDump(final Dump command)
    {
        getContext().spawnAnonymous(DumpSession.create(buckets, command.zone(), command.options(), command.replyTo()),
            SAME_DISPATCHER);
        return this;
    }

    private Behavior<Command> onSetMaxConns(final SetMaxConns command)
    {
        try
        {
            limits.maxConns(command.maxConns());
            return reply(command.replyTo(), Result.ok("setting maxconns successful", command.maxConns()));
        }
        catch (final IllegalArgumentException ex)
        {
            return reply(command.replyTo(), Result.error(ex.getMessage()));
        }
    }

    private Behavior<Command> onSetZoneLimits(final SetZoneLimits command)
    {
        try
        {
            if (command.defaultLimit() != null)
            {
                limits.defaultZoneLimit(command.defaultLimit());
            }
            for (final int[] zoneLimit : command.zoneLimits())
            {
                limits.setZoneLimit(zoneLimit[0], zoneLimit[1]);
            }
            return reply(command.replyTo(), Result.ok("", 0));
        }
        catch (final IllegalArgumentException ex)
        {
            return reply(command.replyTo(), Result.error(ex.getMessage()));
        }
    }

    private Behavior<Command> onDeleteZoneLimits(final DeleteZoneLimits command)
    {
        try
        {
            if (command.deleteDefault())
            {
                limits.defaultZoneLimit(0);
            }
            for (final int zone : command.zones())
            {
                limits.deleteZoneLimit(zone);
            }
            return reply(command.replyTo(), Result.ok("", 0));
        }
        catch (final IllegalArgumentException ex)
        {
            return reply(command.replyTo(), Result.error(ex.getMessage()));
        }
    }

    /** Open vSwitch's {@code ct-get-limits} text: {@code default limit=N}, then {@code zone=Z,limit=L,count=C} lines. */
    private Behavior<Command> onGetZoneLimits(final GetZoneLimits command)
    {
        final StringBuilder sb = new StringBuilder("default limit=").append(limits.defaultZoneLimit());
        final List<Integer> zones = new ArrayList<>();
        if (command.zones().isEmpty())
        {
            for (final int zone : limits.limitedZones())
            {
                zones.add(zone);
            }
        }
        else
        {
            zones.addAll(command.zones());
        }
        for (final int zone : zones)
        {
            if (zone < 0 || zone > 0xFFFF)
            {
                return reply(command.replyTo(), Result.error("invalid zone " + zone));
            }
            sb.append("\nzone=").append(zone).append(",limit=").append(limits.zoneLimit(zone))
                .append(",count=").append(limits.zoneCount(zone));
        }
        return reply(command.replyTo(), Result.ok(sb.toString(), 0));
    }

    private static String badPolicyId(final int policyId)
    {
        return policyId < 0 || policyId > io.ctrack.engine.timeout.TimeoutPolicies.MAX_POLICY_ID ?
            "timeout policy id must be 0-" + io.ctrack.engine.timeout.TimeoutPolicies.MAX_POLICY_ID + ", got " + policyId
            : null;
    }

    private Behavior<Command> onSetTimeoutPolicy(final SetTimeoutPolicy command)
    {
        final int attrs = io.ctrack.engine.timeout.TimeoutAttr.count();
        if (badPolicyId(command.policyId()) != null)
        {
            return reply(command.replyTo(), Result.error(badPolicyId(command.policyId())));
        }
        if (command.seconds().length != attrs)
        {
            return reply(command.replyTo(), Result.error("a policy has " + attrs + " timeouts, got "
                + command.seconds().length));
        }
        this.<BucketActor.Done>fanOut((bucket, self) -> new BucketActor.SetTimeoutPolicy(command.policyId(),
            command.seconds(), self), replies -> Result.ok("", 0), command.replyTo());
        return this;
    }

    private Behavior<Command> onDeleteTimeoutPolicy(final DeleteTimeoutPolicy command)
    {
        if (badPolicyId(command.policyId()) != null)
        {
            return reply(command.replyTo(), Result.error(badPolicyId(command.policyId())));
        }
        this.<BucketActor.Done>fanOut((bucket, self) -> new BucketActor.DeleteTimeoutPolicy(command.policyId(), self),
            replies -> Result.ok("", 0), command.replyTo());
        return this;
    }

    private Behavior<Command> onSetZonePolicy(final SetZonePolicy command)
    {
        if (badPolicyId(command.policyId()) != null)
        {
            return reply(command.replyTo(), Result.error(badPolicyId(command.policyId())));
        }
        if (command.zone() < 0 || command.zone() > 0xFFFF)
        {
            return reply(command.replyTo(), Result.error("zone must be 0-65535, got " + command.zone()));
        }
        this.<BucketActor.Done>fanOut((bucket, self) -> new BucketActor.SetZonePolicy(command.zone(),
            command.policyId(), self), replies -> Result.ok("", 0), command.replyTo());
        return this;
    }

    private Behavior<Command> onSetTcpSeqCheck(final SetTcpSeqCheck command)
    {
        this.<BucketActor.Done>fanOut((bucket, self) -> new BucketActor.SetSequenceCheck(command.enabled(), self),
            replies -> Result.ok((command.enabled() ? "enabling" : "disabling") + " TCP sequence checking successful",
                0), command.replyTo());
        return this;
    }

    private Behavior<Command> onCount(final CountConnections command)
    {
        this.<BucketActor.Counted>fanOut((bucket, self) -> new BucketActor.CountConns(self), replies ->
        {
            long total = 0;
            for (final BucketActor.Counted counted : replies)
            {
                total += counted.connections();
            }
            return Result.ok(Long.toString(total), total);
        }, command.replyTo());
        return this;
    }

    private Behavior<Command> onFailBucket(final FailBucket command)
    {
        if (command.bucket() < 0 || command.bucket() >= buckets.size())
        {
            return reply(command.replyTo(), Result.error("no bucket " + command.bucket()));
        }
        buckets.get(command.bucket()).tell(new BucketActor.InjectFault("requested by admin", -1));
        return reply(command.replyTo(), Result.ok("fault injected into bucket " + command.bucket(), 0));
    }
}
