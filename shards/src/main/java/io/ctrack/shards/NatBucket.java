package io.ctrack.shards;

import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.key.ConnKey;
import io.ctrack.engine.key.CtRequest;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.table.ConnTable;
import io.ctrack.engine.table.Placement;
import io.ctrack.transport.PacketWorker;
import io.ctrack.transport.wire.BatchFlyweight;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.UnsafeBuffer;
import org.apache.pekko.actor.typed.ActorRef;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * One bucket's side of NAT across buckets (DESIGN invariant 4), driven by its {@link BucketActor}:
 * <ul>
 * <li>a translated connection whose reply tuple hashes to another bucket is created pending; this bucket asks that
 *     bucket to reserve the tuple ({@link BucketActor.Reserve}), one candidate at a time in Open vSwitch's order,
 *     and completes the connection only once it is granted; packets of the connection that arrive meanwhile are
 *     held here, in order, with a bound;</li>
 * <li>the bucket holding a reservation keeps an alias; packets that match it are forwarded, in request-batch
 *     form, to the owner's request stream; the owner answers the worker directly;</li>
 * <li>removal is owner first, then a {@link BucketActor.ReleaseAlias} to the alias' bucket; a packet that reaches
 *     the owner after its connection went is sent back to be tracked in its own bucket, aliases ignored.</li>
 * </ul>
 * It lives in {@link BucketState}, so it survives restarts with the table. Touched only by the bucket's actor.
 */
final class NatBucket
{
    /** Packets a bucket holds for pending reservations, at most; more are answered dropped. */
    static final int MAX_HELD = 4096;

    private final BucketState state;
    private final ConnTable table;
    private final int bucketBits;
    private final IntFunction<ActorRef<BucketActor.Command>> buckets;
    private final long holdTimeoutNs;
    private ActorRef<BucketActor.Command> self;

    private final Long2ObjectHashMap<HeldGroup> groups = new Long2ObjectHashMap<>();
    private int heldCount;
    private long nextTimeoutCheckNs;

    /** Forwards and bounces of the batch being processed: destination bucket and request index. */
    private final List<int[]> batchForwards = new ArrayList<>();
    private final ExpandableArrayBuffer message = new ExpandableArrayBuffer(4096);
    private final BatchFlyweight out = new BatchFlyweight();
    private final ArrayDeque<Outgoing> unsent = new ArrayDeque<>();
    private final List<ReleaseTo> releases = new ArrayList<>();
    private final Verdict scratch = new Verdict().wrap(new UnsafeBuffer(new byte[Verdict.NAT_LENGTH]), 0);
    private final CtRequest scratchKey = new CtRequest();
    private final int[] onePosition = new int[1];

    NatBucket(final BucketState state, final int bucketBits, final IntFunction<ActorRef<BucketActor.Command>> buckets,
        final long holdTimeoutNs)
    {
        this.state = state;
        this.table = state.table;
        this.bucketBits = bucketBits;
        this.buckets = buckets;
        this.holdTimeoutNs = holdTimeoutNs;
        final int bucketId = state.bucketId;
        table.placement(new Placement()
        {
            @Override
            public boolean isLocal(final int hash)
            {
                return PacketWorker.bucketOf(hash, bucketBits) == bucketId;
            }

            @Override
            public int bucketOf(final int hash)
            {
                return PacketWorker.bucketOf(hash, bucketBits);
            }

            @Override
            public boolean allLocal()
            {
                return bucketBits == 0;
            }
        }, (ref, connId, aliasBucket, replyKey, pending) ->
        {
            if (!pending)
            {
                releases.add(new ReleaseTo(aliasBucket, ConnKey.of(replyKey), connId));
            }
        });
    }

    /** The actor's own reference (again after a restart). */
    void bind(final ActorRef<BucketActor.Command> self)
    {
        this.self = self;
    }

    // ---- the packet path -----------------------------------------------------------------------------------

    /**
     * Called by the bucket's processor when the table did not answer a request of the batch being polled:
     * hold it, start a reservation, forward it to the owner or send it back.
     */
    void onOutcome(final CtRequest request, final ExecParams params, final long nowMs, final Verdict verdict,
        final BatchFlyweight batch, final int index)
    {
        switch (table.lastOutcome())
        {
            case ConnTable.OUTCOME_FORWARD:
            {
                final int alias = table.lastRef();
                batchForwards.add(new int[] { table.aliasOwnerBucket(alias), index, table.aliasOwnerRef(alias),
                    table.lastReply() ? 1 : 0, (int)(table.aliasConnId(alias) >>> 32), (int)table.aliasConnId(alias) });
                return;
            }
            case ConnTable.OUTCOME_STALE:
                batchForwards.add(new int[] { batch.forwardFromBucket(index), index, -1, 0, 0, 0 });
                return;
            case ConnTable.OUTCOME_HELD:
            {
                final boolean forwarded = (batch.flags() & BatchFlyweight.FLAG_FORWARDED) != 0;
                hold(table.lastRef(), request, params, nowMs, batch.workerId(), batch.batchSeq(), batch.position(index),
                    verdict, forwarded ? batch.forwardFromBucket(index) : -1, forwarded && batch.forwardReply(index));
                return;
            }
            case ConnTable.OUTCOME_PENDING:
                startReservation(table.lastRef(), verdict, batch.workerId(), batch.batchSeq(), batch.position(index),
                    verdictLength(params));
                return;
            default:
                return;
        }
    }

    /** After each polled batch: publishes its forwards and bounces, one message per destination. */
    void batchEnd(final BatchFlyweight batch)
    {
        if (batchForwards.isEmpty())
        {
            return;
        }
        final int maxLength = state.endpoint.maxMessageLength();
        final boolean[] done = new boolean[batchForwards.size()];
        for (int i = 0; i < batchForwards.size(); i++)
        {
            if (done[i])
            {
                continue;
            }
            final int dest = batchForwards.get(i)[0];
            final boolean bounce = batchForwards.get(i)[2] == -1;
            final int flags = bounce ? BatchFlyweight.FLAG_IGNORE_ALIASES : BatchFlyweight.FLAG_FORWARDED;
            final List<int[]> group = new ArrayList<>();
            for (int j = i; j < batchForwards.size(); j++)
            {
                final int[] f = batchForwards.get(j);
                if (!done[j] && f[0] == dest && (f[2] == -1) == bounce)
                {
                    group.add(f);
                    done[j] = true;
                }
            }
            final int chunk = Math.max(1, BatchFlyweight.capacity(maxLength,
                flags | (batch.flags() & BatchFlyweight.FLAG_NAT)));
            // (The pipeline flag is dropped from forwarded copies: see copyHeader below.)
            for (int from = 0; from < group.size(); from += chunk)
            {
                final int n = Math.min(chunk, group.size() - from);
                // The owner tracks forwarded packets as plain ct: a pipeline's post-ct table is left to the worker.
                out.wrap(message, 0).copyHeader(batch, n, flags,
                    (bounce ? BatchFlyweight.FLAG_FORWARDED : BatchFlyweight.FLAG_IGNORE_ALIASES) | BatchFlyweight.FLAG_PIPELINE);
                for (int k = 0; k < n; k++)
                {
                    final int[] f = group.get(from + k);
                    out.position(k, batch.position(f[1]));
                    if (!bounce)
                    {
                        out.forward(k, f[2], state.bucketId, f[3] != 0, ((long)f[4] << 32) | (f[5] & 0xFFFF_FFFFL));
                    }
                }
                for (int k = 0; k < n; k++)
                {
                    // Same request form as the batch's (copyHeader keeps its compact flag).
                    message.putBytes(out.requestOffset(k), batch.buffer(), batch.requestOffset(group.get(from + k)[1]),
                        batch.requestLength());
                }
                sendToBucket(dest, BatchFlyweight.length(n, out.flags()));
            }
        }
        batchForwards.clear();
    }

    private void sendToBucket(final int dest, final int length)
    {
        if (unsent.isEmpty() && state.endpoint.offerToBucket(dest, message, 0, length))
        {
            ring(dest);
            return;
        }
        final byte[] copy = new byte[length];
        message.getBytes(0, copy);
        unsent.add(new Outgoing(dest, copy));
    }

    private void ring(final int dest)
    {
        state.doorbells.ring(dest);
    }

    // ---- holding and reservations -----------------------------------------------------------------------

    private static int verdictLength(final ExecParams params)
    {
        return params.nat() != null ? Verdict.NAT_LENGTH : Verdict.LENGTH;
    }

    private void hold(final int ref, final CtRequest request, final ExecParams params, final long nowMs,
        final int workerId, final int batchSeq, final int position, final Verdict verdict, final int forwardedFrom,
        final boolean reply)
    {
        final HeldGroup group = groups.get(table.pendingConnId(ref));
        if (group == null || heldCount >= MAX_HELD)
        {
            state.counters.increment(EngineCounter.DROPPED_NAT_HELD_FULL);
            verdict.dropped(EngineCounter.DROPPED_NAT_HELD_FULL.id());
            return;
        }
        if (group.followers.isEmpty())
        {
            group.followers = new ArrayList<>(4);
        }
        group.followers.add(new Held(workerId, batchSeq, position, new CtRequest().copyFrom(request),
            new ExecParams().copyFrom(params), nowMs, forwardedFrom, reply));
        heldCount++;
    }

    private void startReservation(final int ref, final Verdict verdict, final int workerId, final int batchSeq,
        final int position, final int verdictLength)
    {
        final long connId = table.pendingConnId(ref);
        final byte[] creator = new byte[Verdict.NAT_LENGTH];
        verdict.buffer().getBytes(verdict.offset(), creator, 0, Verdict.LENGTH);
        verdict.deferred();
        final HeldGroup group = new HeldGroup(ref, connId, workerId, batchSeq, position, verdictLength, creator,
            System.nanoTime());
        groups.put(connId, group);
        askReservation(group);
    }

    private void askReservation(final HeldGroup group)
    {
        final int bucket = table.pendingBucket(group.ref);
        final CtRequest candidate = table.pendingCandidate(group.ref);
        buckets.apply(bucket).tell(new BucketActor.Reserve(ConnKey.of(candidate), state.bucketId, group.ref,
            group.connId, self));
    }

    /** The reply bucket's side: reserve the tuple as an alias unless it is taken there. */
    void onReserve(final BucketActor.Reserve reserve, final long nowMs)
    {
        final CtRequest key = reserve.key().toRequest(scratchKey);
        final boolean granted = table.reserveAlias(key, reserve.ownerBucket(), reserve.ownerRef(), reserve.connId(), nowMs);
        reserve.replyTo().tell(new BucketActor.Reserved(state.bucketId, reserve.key(), reserve.ownerRef(),
            reserve.connId(), granted));
    }

    /** The owner's side: the answer to a reservation. */
    void onReserved(final BucketActor.Reserved reserved, final long nowMs)
    {
        final HeldGroup group = groups.get(reserved.connId());
        final int result = table.reservationResult(reserved.ownerRef(), reserved.connId(), reserved.granted(), nowMs);
        switch (result)
        {
            case ConnTable.RESERVATION_COMPLETED:
            {
                groups.remove(reserved.connId());
                if (group != null)
                {
                    final Verdict creator = scratch;
                    creator.buffer().putBytes(0, group.creator, 0, Verdict.NAT_LENGTH);
                    table.completeVerdict(group.ref, creator);
                    lateVerdict(group.workerId, group.batchSeq, group.position, creator, group.verdictLength);
                    replay(group, true);
                }
                return;
            }
            case ConnTable.RESERVATION_NEXT:
                if (group != null)
                {
                    askReservation(group);
                }
                return;
            case ConnTable.RESERVATION_EXHAUSTED:
            default:
                if (result == ConnTable.RESERVATION_STALE && reserved.granted())
                {
                    // Granted for a connection that went meanwhile: give the tuple back.
                    buckets.apply(reserved.bucket()).tell(new BucketActor.ReleaseAlias(reserved.key(), state.bucketId,
                        reserved.connId()));
                }
                if (group != null)
                {
                    groups.remove(reserved.connId());
                    answerUncommitted(group);
                    replay(group, result == ConnTable.RESERVATION_STALE);
                }
                return;
        }
    }

    /** The creator of a connection that could not be completed: Open vSwitch's answer, new and no connection. */
    private void answerUncommitted(final HeldGroup group)
    {
        final Verdict creator = scratch;
        creator.buffer().putBytes(0, group.creator, 0, Verdict.NAT_LENGTH);
        final int stateBits = creator.ctState();
        creator.set(stateBits, 0, 0, 0, 0);
        lateVerdict(group.workerId, group.batchSeq, group.position, creator, group.verdictLength);
    }

    /**
     * Tracks the held packets of a group again, in order; after an exhausted search they are tracked without commit
     * (Open vSwitch would have refused each one's commit the same way).
     */
    private void replay(final HeldGroup group, final boolean commitAllowed)
    {
        for (final Held h : group.followers)
        {
            heldCount--;
            if (!commitAllowed)
            {
                h.params.commit(false);
            }
            if (h.forwardedFrom >= 0)
            {
                // Arrived through an alias while the connection waited: track it as the owner, or send it back.
                table.executeForwarded(group.ref, group.connId, h.reply, h.request, h.params, h.nowMs, scratch);
                if (table.lastOutcome() == ConnTable.OUTCOME_STALE)
                {
                    bounceOne(h);
                }
                else
                {
                    lateVerdict(h.workerId, h.batchSeq, h.position, scratch, verdictLength(h.params));
                }
                continue;
            }
            table.execute(h.request, h.params, h.nowMs, scratch);
            switch (table.lastOutcome())
            {
                case ConnTable.OUTCOME_ANSWERED:
                    lateVerdict(h.workerId, h.batchSeq, h.position, scratch, verdictLength(h.params));
                    break;
                case ConnTable.OUTCOME_HELD:
                {
                    final HeldGroup other = groups.get(table.pendingConnId(table.lastRef()));
                    if (other != null && heldCount < MAX_HELD)
                    {
                        if (other.followers.isEmpty())
                        {
                            other.followers = new ArrayList<>(4);
                        }
                        other.followers.add(h);
                        heldCount++;
                    }
                    else
                    {
                        state.counters.increment(EngineCounter.DROPPED_NAT_HELD_FULL);
                        scratch.dropped(EngineCounter.DROPPED_NAT_HELD_FULL.id());
                        lateVerdict(h.workerId, h.batchSeq, h.position, scratch, verdictLength(h.params));
                    }
                    break;
                }
                case ConnTable.OUTCOME_PENDING:
                    startReservation(table.lastRef(), scratch, h.workerId, h.batchSeq, h.position, verdictLength(h.params));
                    break;
                case ConnTable.OUTCOME_FORWARD:
                {
                    final int alias = table.lastRef();
                    forwardOne(table.aliasOwnerBucket(alias), h, table.aliasOwnerRef(alias), table.lastReply(),
                        table.aliasConnId(alias));
                    break;
                }
                default:
                    break;
            }
        }
        group.followers = List.of();
    }

    private void forwardOne(final int dest, final Held h, final int ownerRef, final boolean reply, final long connId)
    {
        // The forward record moves the request: set the flag (and the layout) before writing either.
        out.wrap(message, 0).header(1, h.workerId, h.batchSeq, h.nowMs, h.params).addFlags(BatchFlyweight.FLAG_FORWARDED);
        out.position(0, h.position);
        out.forward(0, ownerRef, state.bucketId, reply, connId);
        out.request(0, h.request);
        sendToBucket(dest, BatchFlyweight.length(1, out.flags()));
    }

    /** Sends a held packet that came through an alias back to that bucket, to be tracked there without aliases. */
    private void bounceOne(final Held h)
    {
        out.wrap(message, 0).header(1, h.workerId, h.batchSeq, h.nowMs, h.params)
            .addFlags(BatchFlyweight.FLAG_IGNORE_ALIASES);
        out.position(0, h.position);
        out.request(0, h.request);
        sendToBucket(h.forwardedFrom, BatchFlyweight.length(1, out.flags()));
    }

    private void lateVerdict(final int workerId, final int batchSeq, final int position, final Verdict verdict,
        final int verdictLength)
    {
        onePosition[0] = position;
        if (unsent.isEmpty() && state.endpoint.offerVerdicts(workerId, batchSeq, 1, onePosition, verdict.buffer(),
            verdict.offset(), verdictLength))
        {
            return;
        }
        final byte[] bytes = new byte[verdictLength];
        verdict.buffer().getBytes(verdict.offset(), bytes, 0, verdictLength);
        unsent.add(new Outgoing(workerId, batchSeq, position, bytes));
    }

    void onRelease(final BucketActor.ReleaseAlias release, final long nowMs)
    {
        table.releaseAlias(release.key().toRequest(scratchKey), release.ownerBucket(), release.connId(), nowMs);
    }

    // ---- upkeep ---------------------------------------------------------------------------------------------

    /**
     * Sends what could not go before (messages to full streams, alias releases of removed connections), and
     * abandons reservations that got no answer within the hold timeout. Returns true while something is left to
     * send, so the bucket keeps coming back instead of parking.
     */
    boolean upkeep()
    {
        if (!releases.isEmpty())
        {
            for (final ReleaseTo r : releases)
            {
                buckets.apply(r.bucket).tell(new BucketActor.ReleaseAlias(r.key, state.bucketId, r.connId));
            }
            releases.clear();
        }
        while (!unsent.isEmpty())
        {
            final Outgoing o = unsent.peek();
            final UnsafeBuffer bytes = new UnsafeBuffer(o.bytes);
            final boolean sent = o.toBucket
                ? state.endpoint.offerToBucket(o.target, bytes, 0, o.bytes.length)
                : state.endpoint.offerVerdicts(o.target, o.batchSeq, 1, positionOf(o.position), bytes, 0, o.bytes.length);
            if (!sent)
            {
                break;
            }
            if (o.toBucket)
            {
                ring(o.target);
            }
            unsent.poll();
        }
        if (!groups.isEmpty())
        {
            final long now = System.nanoTime();
            if (now - nextTimeoutCheckNs >= 0)
            {
                nextTimeoutCheckNs = now + 100_000_000L;
                final List<Long> late = new ArrayList<>();
                groups.forEach((id, g) ->
                {
                    if (now - g.startedNs > holdTimeoutNs)
                    {
                        late.add(id);
                    }
                });
                for (final long id : late)
                {
                    final HeldGroup g = groups.remove(id);
                    // The workers have answered these packets "dropped: verdict timeout" by now; free the entry.
                    table.abandonPending(g.ref, g.connId);
                    heldCount -= g.followers.size();
                    state.counters.add(EngineCounter.NAT_RESERVATION_TIMEOUT, 1);
                }
            }
        }
        return !unsent.isEmpty();
    }

    private int[] positionOf(final int position)
    {
        onePosition[0] = position;
        return onePosition;
    }

    /** Alias releases collected from removals, not yet sent. */
    boolean hasReleases()
    {
        return !releases.isEmpty();
    }

    int heldCount()
    {
        return heldCount;
    }

    int pendingGroups()
    {
        return groups.size();
    }

    // ---- records --------------------------------------------------------------------------------------------

    private static final class HeldGroup
    {
        final int ref;
        final long connId;
        final int workerId;
        final int batchSeq;
        final int position;
        final int verdictLength;
        final byte[] creator;
        final long startedNs;
        /** Packets of the connection that arrived while it waited (usually none: allocated on the first). */
        List<Held> followers = List.of();

        HeldGroup(final int ref, final long connId, final int workerId, final int batchSeq, final int position,
            final int verdictLength, final byte[] creator, final long startedNs)
        {
            this.ref = ref;
            this.connId = connId;
            this.workerId = workerId;
            this.batchSeq = batchSeq;
            this.position = position;
            this.verdictLength = verdictLength;
            this.creator = creator;
            this.startedNs = startedNs;
        }
    }

    /** A held packet; {@code forwardedFrom} is the bucket that forwarded it (its alias matched), or -1. */
    private record Held(int workerId, int batchSeq, int position, CtRequest request, ExecParams params, long nowMs,
        int forwardedFrom, boolean reply)
    {
    }

    private record ReleaseTo(int bucket, ConnKey key, long connId)
    {
    }

    private static final class Outgoing
    {
        final boolean toBucket;
        final int target;
        final int batchSeq;
        final int position;
        final byte[] bytes;

        Outgoing(final int bucket, final byte[] message)
        {
            this.toBucket = true;
            this.target = bucket;
            this.batchSeq = 0;
            this.position = 0;
            this.bytes = message;
        }

        Outgoing(final int workerId, final int batchSeq, final int position, final byte[] verdict)
        {
            this.toBucket = false;
            this.target = workerId;
            this.batchSeq = batchSeq;
            this.position = position;
            this.bytes = verdict;
        }
    }
}
