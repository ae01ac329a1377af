package io.ctrack.engine.table;

import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.key.CtRequest;
import io.ctrack.engine.l4.IcmpTracker;
import io.ctrack.engine.l4.L4Tracker;
import io.ctrack.engine.l4.OtherTracker;
import io.ctrack.engine.nat.NatSpec;
import io.ctrack.engine.nat.UniqueTupleSearch;
import io.ctrack.engine.packet.Protocols;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.status.EngineCounters;
import io.ctrack.engine.tcp.TcpTracker;
import io.ctrack.engine.timeout.TimeoutPolicies;

import static io.ctrack.engine.table.ConnStore.*;

/**
 * One bucket's connections, tracked with Open vSwitch's semantics ({@code process_one}): lookup in either
 * direction, the L4 tracker's update, commit of new connections under the limits, mark and label. Expired
 * connections are absent on lookup and removed there.
 * <p>
 * Three layers share the work: {@link ConnTableStorage} keeps the connections (index, stores, expiry, zones,
 * admin scans), {@link TranslatingTable} adds NAT (tuple search, rewrites, links with other buckets), and this
 * class tracks packets. Nothing is allocated per lookup or update.
 * <p>
 * <b>This class is not thread-safe.</b> Exactly one thread, the bucket's owner, may call it.
 */
public final class ConnTable extends TranslatingTable
{
    /** The packet's verdict is in {@code out}. */
    public static final int OUTCOME_ANSWERED = 0;
    /** The packet belongs to a connection whose reservation is in flight ({@link #lastRef()}): hold it. */
    public static final int OUTCOME_HELD = 1;
    /** The packet matched an alias ({@link #lastRef()}): forward it to the owner ({@link #aliasOwnerBucket}). */
    public static final int OUTCOME_FORWARD = 2;
    /**
     * The packet created a translated connection ({@link #lastRef()}) whose reply tuple must be reserved in another
     * bucket ({@link #pendingCandidate}); its verdict is in {@code out} without the translation, to be completed by
     * {@link #completeVerdict} once the reservation succeeds.
     */
    public static final int OUTCOME_PENDING = 3;
    /** A forwarded packet found no connection: track it again in its own bucket, aliases ignored. */
    public static final int OUTCOME_STALE = 4;

    private final L4Tracker[] trackerByProto = new L4Tracker[256];
    private boolean sequenceCheck = true;
    private int lastOutcome;
    private int lastRef;
    private int lastConnRef;
    private boolean lastConnReply;

    public ConnTable(final ConnTableConfig config, final TimeoutPolicies policies, final Admission admission,
        final EngineCounters counters)
    {
        super(config, policies, admission, counters);
        // By protocol number alone, whatever the address family, as Open vSwitch's l4_protos[].
        java.util.Arrays.fill(trackerByProto, new OtherTracker());
        trackerByProto[Protocols.IPPROTO_TCP] = new TcpTracker();
        trackerByProto[Protocols.IPPROTO_ICMP] = new IcmpTracker(false);
        trackerByProto[Protocols.IPPROTO_ICMPV6] = new IcmpTracker(true);
    }

    /** Whether TCP sequence numbers are checked (Open vSwitch's {@code tcp_seq_chk}, default on). */
    public void sequenceCheck(final boolean enabled)
    {
        this.sequenceCheck = enabled;
    }

    public boolean sequenceCheck()
    {
        return sequenceCheck;
    }

    // ---- the packet path ----------------------------------------------------------------------------------------

    /**
     * Tracks one packet: Open vSwitch's {@code process_one} for a packet whose key is in {@code r}, executed with
     * {@code p} at {@code nowMs}, answering in {@code out}. Callers count {@link EngineCounter#PACKETS} per batch.
     * <p>
     * When {@code p} carries a NAT action, {@code out} must have room for the NAT part of the verdict
     * ({@link Verdict#NAT_LENGTH} bytes). {@link #lastOutcome()} tells whether the verdict is final or the packet
     * must wait for a reservation or go to the bucket that owns its connection.
     */
    public void execute(final CtRequest r, final ExecParams p, final long nowMs, final Verdict out)
    {
        lastOutcome = OUTCOME_ANSWERED;
        final int ref = lookupPacket(r, nowMs, false);
        if (ref != 0)
        {
            final ConnStore found = store(ref);
            final long meta = found.data[Refs.slot(ref) * found.stride + META];
            if ((meta & (Meta.ALIAS | Meta.PENDING)) == 0)
            {
                track(ref, lastReply, r, p, nowMs, out, false);
                return;
            }
            if ((meta & Meta.ALIAS) != 0)
            {
                // The reply direction of another bucket's translated connection: its owner tracks it.
                lastOutcome = OUTCOME_FORWARD;
                lastRef = ref;
                counters.increment(EngineCounter.NAT_FORWARDED);
                out.deferred();
                return;
            }
            if ((meta & Meta.PENDING) != 0)
            {
                // Its reply tuple is being reserved elsewhere: the packet waits, in order, in the owner.
                lastOutcome = OUTCOME_HELD;
                lastRef = ref;
                counters.increment(EngineCounter.NAT_HELD);
                out.deferred();
                return;
            }
        }
        track(ref, lastReply, r, p, nowMs, out, false);
    }

    /**
     * Tracks a packet that another bucket forwarded because it matched the alias of connection {@code ref} (id
     * {@code connId}) of this table; {@code reply} is the direction the alias matched. If the connection is gone,
     * or the packet would start a new connection (which belongs in the bucket its key hashes to), nothing is
     * tracked and {@link #lastOutcome()} is {@link #OUTCOME_STALE}: the caller sends the packet back, to be tracked
     * there without aliases.
     */
    public void executeForwarded(final int ref, final long connId, final boolean reply, final CtRequest r,
        final ExecParams p, final long nowMs, final Verdict out)
    {
        lastOutcome = OUTCOME_ANSWERED;
        if (!isLiveConnection(ref, connId) || nowMs >= expirationMs(ref))
        {
            if (isLiveConnection(ref, connId))
            {
                remove(ref, EngineCounter.CONN_EXPIRED);
            }
            lastOutcome = OUTCOME_STALE;
            counters.increment(EngineCounter.NAT_STALE_FORWARD);
            out.deferred();
            return;
        }
        if ((meta(ref) & Meta.PENDING) != 0)
        {
            // The alias was granted and the reply came before the grant did: wait with the connection's packets.
            lastOutcome = OUTCOME_HELD;
            lastRef = ref;
            counters.increment(EngineCounter.NAT_HELD);
            out.deferred();
            return;
        }
        track(ref, reply, r, p, nowMs, out, true);
    }

    public int lastOutcome()
    {
        return lastOutcome;
    }

    /** The entry the last held, forwarded or pending outcome is about. */
    public int lastRef()
    {
        return lastRef;
    }

    /**
     * Open vSwitch's lookup: by the packet's key or, for a packet that a previous {@code ct(nat)} already
     * translated, by its reversed key (the direction flips). Sets {@link #lastReply}.
     */
    private int lookupPacket(final CtRequest r, final long nowMs, final boolean ignoreAliases)
    {
        if ((r.inState() & (CtState.SRC_NAT | CtState.DST_NAT)) == 0)
        {
            return lookup(r, nowMs, ignoreAliases);
        }
        r.swapEndpoints();
        final int ref = lookup(r, nowMs, ignoreAliases);
        r.swapEndpoints();
        if (ref != 0)
        {
            lastReply = !lastReply;
        }
        return ref;
    }

    /** {@link #execute} for a packet sent back by the owner of a stale alias: aliases are not followed. */
    public void executeIgnoringAliases(final CtRequest r, final ExecParams p, final long nowMs, final Verdict out)
    {
        lastOutcome = OUTCOME_ANSWERED;
        final int ref = lookupPacket(r, nowMs, true);
        if (ref != 0 && (meta(ref) & Meta.PENDING) != 0)
        {
            lastOutcome = OUTCOME_HELD;
            lastRef = ref;
            counters.increment(EngineCounter.NAT_HELD);
            out.deferred();
            return;
        }
        track(ref, lastReply, r, p, nowMs, out, false);
    }

    /** {@link #trackRest}'s {@code updated}: the tracker has not seen the packet yet. */
    private static final int NOT_UPDATED = -1;

    /**
     * Open vSwitch's {@code process_one} from the lookup on. The common case comes first and alone, small enough for
     * the JIT to inline into {@link #execute}: a packet of a known connection, not ICMP-related, not a forced
     * restart, that its tracker accepts. Everything else is {@link #trackRest}.
     */
    private void track(final int found, final boolean reply, final CtRequest r, final ExecParams p, final long nowMs,
        final Verdict out, final boolean forwarded)
    {
        if (found == 0 || r.isIcmpRelated() || (reply && p.force()))
        {
            trackRest(found, reply, r, p, nowMs, out, forwarded, NOT_UPDATED);
            return;
        }
        final int result = trackerByProto[r.nwProto()].update(wrap(entry, found), r, reply, nowMs, sequenceCheck);
        if (result == L4Tracker.VALID)
        {
            answer(found, reply, false, false, (r.inState() | CtState.ESTABLISHED | CtState.TRACKED) & ~CtState.NEW
                | (reply ? CtState.REPLY_DIR : 0), r, p, out, 0);
        }
        else if (result == L4Tracker.VALID_NEW)
        {
            answer(found, reply, false, false, r.inState() | CtState.NEW | CtState.TRACKED, r, p, out, 0);
        }
        else
        {
            trackRest(found, reply, r, p, nowMs, out, forwarded, result);
        }
    }

    /**
     * {@link #track} for every other case; {@code updated} is what the tracker said of the packet if it has already
     * seen it (then the connection exists, the packet is not related and no forced restart applies), else
     * {@link #NOT_UPDATED}.
     */
    private void trackRest(final int found, final boolean reply, final CtRequest r, final ExecParams p,
        final long nowMs, final Verdict out, final boolean forwarded, final int updated)
    {
        int ref = found;
        final boolean related = r.isIcmpRelated();
        final L4Tracker tracker = trackerByProto[r.nwProto()];
        int state = r.inState();
        int reason = 0;

        if (updated == NOT_UPDATED && ref != 0 && reply && p.force())
        {
            // force: a connection seen from its reply direction is ended and started over from this packet.
            remove(ref, EngineCounter.CONN_REPLACED);
            ref = 0;
            if (forwarded)
            {
                // The new connection belongs in the bucket this packet's key hashes to.
                lastOutcome = OUTCOME_STALE;
                out.deferred();
                return;
            }
        }

        boolean createNew = false;
        if (ref != 0)
        {
            if (related)
            {
                state |= CtState.RELATED;
                if (reply)
                {
                    state |= CtState.REPLY_DIR;
                }
            }
            else
            {
                final int result = updated != NOT_UPDATED ? updated
                    : tracker.update(wrap(entry, ref), r, reply, nowMs, sequenceCheck);
                if (result == L4Tracker.VALID)
                {
                    state = (state | CtState.ESTABLISHED) & ~CtState.NEW;
                    if (reply)
                    {
                        state |= CtState.REPLY_DIR;
                    }
                }
                else if (result == L4Tracker.VALID_NEW)
                {
                    state |= CtState.NEW;
                }
                else if (result == L4Tracker.NEW)
                {
                    remove(ref, EngineCounter.CONN_REPLACED);
                    ref = 0;
                    if (forwarded)
                    {
                        lastOutcome = OUTCOME_STALE;
                        out.deferred();
                        return;
                    }
                    createNew = true;
                }
                else
                {
                    state = CtState.INVALID;
                    reason = result & 0xFF;
                }
            }
        }
        else if (related)
        {
            state = CtState.INVALID;
            reason = EngineCounter.INVALID_RELATED_UNKNOWN.id();
        }
        else
        {
            createNew = true;
        }

        boolean created = false;
        if (createNew)
        {
            if (!tracker.validNew(r))
            {
                state = CtState.INVALID;
                reason = EngineCounter.INVALID_NEW.id();
            }
            else
            {
                state = CtState.NEW;
                if (p.commit())
                {
                    ref = create(r, nowMs, tracker, p);
                    created = ref != 0;
                }
            }
        }

        answer(ref, reply, created, related, state | CtState.TRACKED, r, p, out, reason);
    }

    /**
     * Writes the verdict of a tracked packet ({@code state} final but for NAT bits; {@code ref} 0 if the packet
     * has no connection), applying the mark and label actions, counting {@code reason} if not 0.
     */
    private void answer(final int ref, final boolean reply, final boolean created, final boolean related,
        final int state, final CtRequest r, final ExecParams p, final Verdict out, final int reason)
    {
        if (ref == 0)
        {
            out.set(state, 0, 0, 0, 0);
        }
        else if (!created && !p.setMark() && !p.setLabel() && p.nat() == null)
        {
            // No action to apply, no translation to report: mark, id and labels as they are.
            final ConnStore s = store(ref);
            final int slot = Refs.slot(ref);
            final int at = slot * s.stride;
            final long[] labels = s.labels;
            out.set(state, (int)s.data[at + MARK], s.data[at + ID], labels == null ? 0 : labels[slot * 2],
                labels == null ? 0 : labels[slot * 2 + 1]);
        }
        else
        {
            answerWithActions(ref, reply, created, related, state, r, p, out);
        }
        if (reason != 0)
        {
            out.reason(reason);
            counters.increment(EngineCounter.byId(reason));
        }
        lastConnRef = ref;
        lastConnReply = reply && !created;
    }

    /** {@link #answer} for a connection just created, or with a mark, label or NAT action. */
    private void answerWithActions(final int ref, final boolean reply, final boolean created, final boolean related,
        final int tracked, final CtRequest r, final ExecParams p, final Verdict out)
    {
        int state = tracked;
        final ConnStore s = store(ref);
        final int slot = Refs.slot(ref);
        final long[] d = s.data;
        final int markAt = slot * s.stride + MARK;
        int mark = (int)d[markAt];
        if (p.setMark())
        {
            mark = p.markValue() | (mark & ~p.markMask());
            d[markAt] = (d[markAt] & ~LOW32) | (mark & LOW32);
            clearFlowCache(s, slot);
        }
        long labelLo = 0;
        long labelHi = 0;
        if (p.setLabel())
        {
            clearFlowCache(s, slot);
            final long[] labels = s.labels();
            labelLo = p.labelValueLo() | (labels[slot * 2] & ~p.labelMaskLo());
            labelHi = p.labelValueHi() | (labels[slot * 2 + 1] & ~p.labelMaskHi());
            labels[slot * 2] = labelLo;
            labels[slot * 2 + 1] = labelHi;
        }
        else if (s.labels != null)
        {
            labelLo = s.labels[slot * 2];
            labelHi = s.labels[slot * 2 + 1];
        }
        final long meta = created || p.nat() != null ? d[markAt - MARK + META] : 0;
        if (created && (meta & Meta.PENDING) != 0)
        {
            // Created, waiting for its reply tuple: the verdict is completed when the reservation succeeds.
            out.set(state, mark, d[markAt - MARK + ID], labelLo, labelHi);
            lastOutcome = OUTCOME_PENDING;
            lastRef = ref;
        }
        else
        {
            if (Meta.natAction(meta) != 0 && p.nat() != null
                && (r.inState() & (CtState.SRC_NAT | CtState.DST_NAT)) == 0)
            {
                state |= natState(meta, reply && !created);
                out.set(state, mark, d[markAt - MARK + ID], labelLo, labelHi);
                writeNat(ref, reply && !created, related, out);
            }
            else
            {
                out.set(state, mark, d[markAt - MARK + ID], labelLo, labelHi);
            }
        }
    }

    // ---- single-pass pipeline cache -------------------------------------------------------------------------

    /** The connection the last tracked packet belongs to (0 if none), and its direction. */
    public int lastConnRef()
    {
        return lastConnRef;
    }

    public boolean lastConnReply()
    {
        return lastConnReply;
    }

    private int create(final CtRequest r, final long nowMs, final L4Tracker tracker, final ExecParams p)
    {
        final int zone = r.zone();
        final int refusal = admission.tryAdmit(zone);
        if (refusal != Admission.ADMITTED)
        {
            counters.increment(EngineCounter.byId(refusal));
            return 0;
        }
        final boolean isV6 = r.isIpv6();
        final ConnStore s = isV6 ? v6 : v4;
        final int slot = s.allocate();
        final int ref = s.familyBit | slot;
        final long[] d = s.data;
        final int b = slot * s.stride;
        d[b + META] = Meta.of(r.nwProto(), zone, policies.policyForZone(zone));
        d[b + ORIG_L4] = ((long)r.srcL4() << 32) | (r.dstL4() & LOW32);
        writeAddresses(d, b + ORIG_ADDR, isV6, r);
        final int hash = r.hash();
        d[b + MARK] = (long)hash << 32;
        d[b + ID] = idBase | nextId++;

        final ConnEntry e = wrap(entry, ref);
        e.creating = true;
        tracker.create(e, r, nowMs);
        e.creating = false;
        wheel.insert(ref, d[b + EXPIRATION], nowMs);
        zones.add(zone, ref);

        final NatSpec nat = p.nat();
        if (nat == null || nat.isPlain() || nat.isIpv6() != isV6 && nat.hasAddress())
        {
            // No translation: one index entry for both directions. (Plain 'nat' on a new connection translates
            // nothing, as Linux's null binding; a range of the other family cannot apply.)
            index.insert(hash, ref | Refs.MATCH_BOTH);
            counters.increment(EngineCounter.CONN_CREATED);
            return ref;
        }
        d[b + META] |= (long)nat.action() << Meta.NAT_SHIFT;
        s.ensureReplyKeys();
        index.insert(hash, ref | Refs.MATCH_ORIG);
        counters.increment(EngineCounter.CONN_CREATED);
        counters.increment(EngineCounter.NAT_CONNS);
        final UniqueTupleSearch search = placement.allLocal() ? localSearch : newSearch();
        search.start(r, nat);
        final int result = continueSearch(ref, search, nowMs);
        if (result != SEARCH_REMOTE && search != localSearch && freeSearches.size() < 1024)
        {
            freeSearches.add(search);
        }
        if (result == SEARCH_EXHAUSTED)
        {
            return 0;
        }
        if (result == SEARCH_REMOTE)
        {
            d[b + META] |= Meta.PENDING;
            pending.put(ref, new Pending(search, d[b + ID], placement.bucketOf(candidate.hash()),
                new CtRequest().copyFrom(candidate)));
        }
        return ref;
    }
}
