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
import io.ctrack.engine.status.LatencyHistogram;
import io.ctrack.engine.tcp.TcpTracker;
import io.ctrack.engine.timeout.TimeoutAttr;
import io.ctrack.engine.timeout.TimeoutPolicies;

import java.util.function.Consumer;

import static io.ctrack.engine.table.ConnStore.*;

/**
 * One bucket's connections, tracked with Open vSwitch's semantics ({@code process_one}): lookup in either
 * direction, the L4 tracker's update, commit of new connections under the limits, mark and label. Expired
 * connections are absent on lookup and removed there.
 * <p>
 * Storage: an open-addressing index ({@code long[]}: 32-bit hash | entry reference, linear probing, backward-shift
 * deletion, load at most 0.7) over two fixed-stride entry stores, one per address family (88 bytes per IPv4
 * connection, 112 per IPv6). Connections without NAT have one index entry that matches both directions (the
 * hash is symmetric). Nothing is allocated per lookup or update; inserting allocates only when a store or the
 * index doubles.
 * <p>
 * <b>This class is not thread-safe.</b> Exactly one thread, the bucket's owner, may call it.
 */
public final class ConnTable implements ExpiryWheel.ExpiredSink
{
    private static final long LOW32 = 0xFFFF_FFFFL;

    private final ConnStore v4;
    private final ConnStore v6;
    private final Links zoneLinks;
    private final ZoneIndex zones;
    private final ExpiryWheel wheel;
    private final TimeoutPolicies policies;
    private final Admission admission;
    private final EngineCounters counters;
    private final L4Tracker[] trackerByProto = new L4Tracker[256];
    private final ConnEntry entry = new ConnEntry(this);
    private final ConnEntry view = new ConnEntry(this);
    private final long idBase;
    private long nextId = 1;
    private boolean sequenceCheck = true;

    private final ConnIndex index;

    private boolean lastReply;
    private int lastOutcome;
    private int lastRef;
    private int lastConnRef;
    private boolean lastConnReply;
    private final LatencyHistogram lateness = new LatencyHistogram();

    /** Basis of the NAT range hash (Open vSwitch's per-process {@code hash_basis}); the same on every bucket. */
    private static final long NAT_HASH_BASIS = 0x5BD1_E995_2B61_0F4DL;
    private final UniqueTupleSearch localSearch;
    private final CtRequest candidate = new CtRequest();
    private final CtRequest scratchKey = new CtRequest();
    private final org.agrona.collections.Int2ObjectHashMap<Pending> pending = new org.agrona.collections.Int2ObjectHashMap<>();
    private final java.util.ArrayDeque<UniqueTupleSearch> freeSearches = new java.util.ArrayDeque<>();
    private Placement placement = Placement.LOCAL;
    private NatListener natListener;
    private int aliases;
    private long sweepNowMs;
    private int sweptRemoved;

    public ConnTable(final ConnTableConfig config, final TimeoutPolicies policies, final Admission admission,
        final EngineCounters counters)
    {
        this.policies = policies;
        this.admission = admission;
        this.counters = counters;
        this.idBase = (long)config.tableId() << 40;
        this.localSearch = new UniqueTupleSearch(NAT_HASH_BASIS, idBase + 1);
        this.v4 = new ConnStore(false, config.initialCapacity());
        this.v6 = new ConnStore(true, Math.max(16, config.initialCapacity() / 16));
        this.zoneLinks = new Links(v4, v6, ZONE_LINKS);
        this.zones = new ZoneIndex(zoneLinks);
        this.wheel = new ExpiryWheel(new Links(v4, v6, EXPIRY_LINKS), config.wheelSlots(), config.wheelSlotMs());
        this.index = new ConnIndex(config.initialCapacity());

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

    long timeoutMillis(final int policyId, final TimeoutAttr attr)
    {
        return policies.millis(policyId, attr);
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

    private void track(final int found, final boolean reply, final CtRequest r, final ExecParams p, final long nowMs,
        final Verdict out, final boolean forwarded)
    {
        int ref = found;
        final boolean related = r.isIcmpRelated();
        final L4Tracker tracker = trackerByProto[r.nwProto()];
        int state = r.inState();
        int reason = 0;

        if (ref != 0 && reply && p.force())
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
                final int result = tracker.update(wrap(entry, ref), r, reply, nowMs, sequenceCheck);
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

        state |= CtState.TRACKED;
        if (ref == 0)
        {
            out.set(state, 0, 0, 0, 0);
        }
        else
        {
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
        if (reason != 0)
        {
            out.reason(reason);
            counters.increment(EngineCounter.byId(reason));
        }
        lastConnRef = ref;
        lastConnReply = reply && !created;
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

    /**
     * The flow id cached for connection {@code ref} in direction {@code reply} under {@code key} (the pipeline's
     * generation, input port, ct_state and table), or 0 if none is cached for that key.
     */
    public int cachedFlow(final int ref, final boolean reply, final long key)
    {
        final ConnStore s = store(ref);
        final long[] c = s.flowCache;
        if (c == null)
        {
            return 0;
        }
        final int at = Refs.slot(ref) * 4 + (reply ? 2 : 0);
        return c[at] == key ? (int)c[at + 1] : 0;
    }

    public void cacheFlow(final int ref, final boolean reply, final long key, final int flowId)
    {
        final long[] c = store(ref).flowCache();
        final int at = Refs.slot(ref) * 4 + (reply ? 2 : 0);
        c[at] = key;
        c[at + 1] = flowId;
    }

    private static void clearFlowCache(final ConnStore s, final int slot)
    {
        if (s.flowCache != null)
        {
            java.util.Arrays.fill(s.flowCache, slot * 4, slot * 4 + 4, 0L);
        }
    }

    /** The ct_state bit of the translation a packet of this direction gets (the reply of SNAT is DNAT'ed). */
    private static int natState(final long meta, final boolean reply)
    {
        final boolean src = (Meta.natAction(meta) & NatSpec.ACTION_SRC) != 0;
        return src != reply ? CtState.SRC_NAT : CtState.DST_NAT;
    }

    /**
     * Writes the rewrite of Open vSwitch's {@code nat_packet}: the packet takes the addresses and ports of the
     * connection's other key, reversed. Source translation of an original-direction packet sets the source address
     * to the reply key's destination; every rewrite sets both ports (ICMP: the id) from that key.
     */
    private void writeNat(final int ref, final boolean reply, final boolean related, final Verdict out)
    {
        final ConnStore s = store(ref);
        final int slot = Refs.slot(ref);
        final long[] d = s.data;
        final int b = slot * s.stride;
        final boolean v6 = Refs.isV6(ref);
        final boolean srcAction = (Meta.natAction(d[b + META]) & NatSpec.ACTION_SRC) != 0;
        // The key whose reverse the packet must look like: the reply key for original-direction packets.
        final boolean rewriteSource = srcAction != reply;
        final int keySrcL4;
        final int keyDstL4;
        final long addrHi;
        final long addrLo;
        if (!reply)
        {
            final long l4 = s.replyL4[slot];
            keySrcL4 = (int)(l4 >>> 32);
            keyDstL4 = (int)l4;
            final int at = slot * s.addrWords;
            if (v6)
            {
                addrHi = rewriteSource ? s.replyAddr[at + 2] : s.replyAddr[at];
                addrLo = rewriteSource ? s.replyAddr[at + 3] : s.replyAddr[at + 1];
            }
            else
            {
                final long a = s.replyAddr[at];
                addrHi = 0;
                addrLo = rewriteSource ? a & LOW32 : a >>> 32;
            }
        }
        else
        {
            keySrcL4 = (int)(d[b + ORIG_L4] >>> 32);
            keyDstL4 = (int)d[b + ORIG_L4];
            if (v6)
            {
                addrHi = rewriteSource ? d[b + ORIG_ADDR + 2] : d[b + ORIG_ADDR];
                addrLo = rewriteSource ? d[b + ORIG_ADDR + 3] : d[b + ORIG_ADDR + 1];
            }
            else
            {
                final long a = d[b + ORIG_ADDR];
                addrHi = 0;
                addrLo = rewriteSource ? a & LOW32 : a >>> 32;
            }
        }
        int op = rewriteSource ? Verdict.NAT_REWRITE_SOURCE : Verdict.NAT_REWRITE_DESTINATION;
        if (related)
        {
            op |= Verdict.NAT_RELATED;
        }
        out.nat(op, keySrcL4 >>> 16, keyDstL4 >>> 16, addrHi, addrLo);
    }

    private ConnEntry wrap(final ConnEntry e, final int ref)
    {
        return e.wrap(Refs.isV6(ref) ? v6 : v4, ref);
    }

    private ConnStore store(final int ref)
    {
        return Refs.isV6(ref) ? v6 : v4;
    }

    /** Finds the live connection {@code r}'s key belongs to; sets {@link #lastReply}. Returns 0 if none. */
    private int lookup(final CtRequest r, final long nowMs)
    {
        return lookup(r, nowMs, false);
    }

    /**
     * Finds the live entry (connection or, unless {@code ignoreAliases}, alias) {@code r}'s key belongs to; sets
     * {@link #lastReply}. Returns 0 if none.
     */
    private int lookup(final CtRequest r, final long nowMs, final boolean ignoreAliases)
    {
        final int hash = r.hash();
        final long[] idx = index.slots;
        final int m = index.mask;
        int i = hash & m;
        while (true)
        {
            final long v = idx[i];
            if (v == 0)
            {
                return 0;
            }
            if ((int)(v >>> 32) == hash)
            {
                final int ref = (int)v;
                final int match = match(ref, r);
                if (match != 0)
                {
                    final int e = Refs.entry(ref);
                    final ConnStore s = store(e);
                    final int b = Refs.slot(e) * s.stride;
                    if ((s.data[b + META] & Meta.ALIAS) != 0)
                    {
                        if (!ignoreAliases)
                        {
                            // An alias holds its connection's reply key: matching it exactly is the reply direction.
                            lastReply = match == 1;
                            return e;
                        }
                    }
                    else
                    {
                        if (nowMs >= s.data[b + EXPIRATION])
                        {
                            remove(e, EngineCounter.CONN_EXPIRED);
                            return 0;
                        }
                        lastReply = match == 2;
                        return e;
                    }
                }
            }
            i = (i + 1) & m;
        }
    }

    /** 0: no match; 1: {@code r} is the original direction; 2: {@code r} is the reply direction. */
    private int match(final int ref, final CtRequest r)
    {
        final boolean isV6 = Refs.isV6(ref);
        if (isV6 != r.isIpv6())
        {
            return 0;
        }
        final ConnStore s = isV6 ? v6 : v4;
        final long[] d = s.data;
        final int slot = Refs.slot(ref);
        final int b = slot * s.stride;
        if (Meta.protoZone(d[b + META]) != Meta.protoZone(r.nwProto(), r.zone()))
        {
            return 0;
        }
        final int mode = ref & Refs.MATCH_MASK;
        final int srcL4 = r.srcL4();
        final int dstL4 = r.dstL4();
        if (mode == Refs.MATCH_REPLY)
        {
            final long replyL4 = s.replyL4[slot];
            if (replyL4 != (((long)srcL4 << 32) | (dstL4 & LOW32)))
            {
                return 0;
            }
            return addressesEqual(s.replyAddr, slot * s.addrWords, isV6, r, false) ? 2 : 0;
        }
        final long origL4 = d[b + ORIG_L4];
        if (origL4 == (((long)srcL4 << 32) | (dstL4 & LOW32)) && addressesEqual(d, b + ORIG_ADDR, isV6, r, false))
        {
            return 1;
        }
        if (mode == Refs.MATCH_BOTH && origL4 == (((long)dstL4 << 32) | (srcL4 & LOW32))
            && addressesEqual(d, b + ORIG_ADDR, isV6, r, true))
        {
            return 2;
        }
        return 0;
    }

    private static boolean addressesEqual(
        final long[] a, final int at, final boolean isV6, final CtRequest r, final boolean swapped)
    {
        if (!isV6)
        {
            final long src = r.srcLo() & LOW32;
            final long dst = r.dstLo() & LOW32;
            return a[at] == (swapped ? (dst << 32 | src) : (src << 32 | dst));
        }
        if (swapped)
        {
            return a[at] == r.dstHi() && a[at + 1] == r.dstLo() && a[at + 2] == r.srcHi() && a[at + 3] == r.srcLo();
        }
        return a[at] == r.srcHi() && a[at + 1] == r.srcLo() && a[at + 2] == r.dstHi() && a[at + 3] == r.dstLo();
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

    private static final int SEARCH_FOUND = 0;
    private static final int SEARCH_REMOTE = 1;
    private static final int SEARCH_EXHAUSTED = 2;

    /**
     * Runs the search of translated connection {@code ref} on: candidates that hash to this bucket are checked
     * here; the first free one completes the connection. Stops at the first candidate of another bucket (left in
     * {@link #candidate}), or removes the connection when the search is exhausted.
     */
    private int continueSearch(final int ref, final UniqueTupleSearch search, final long nowMs)
    {
        while (search.next(candidate))
        {
            counters.increment(EngineCounter.NAT_TRIES);
            if (!placement.isLocal(candidate.hash()))
            {
                return SEARCH_REMOTE;
            }
            if (lookup(candidate, nowMs, false) == 0)
            {
                setReplyKey(ref, candidate, -1);
                index.insert(candidate.hash(), ref | Refs.MATCH_REPLY);
                return SEARCH_FOUND;
            }
        }
        counters.increment(EngineCounter.NAT_EXHAUSTED);
        removeEntry(ref, null);
        return SEARCH_EXHAUSTED;
    }

    /** A key's addresses as a slot stores them: IPv6 in four longs, IPv4 source and destination in one. */
    private static void writeAddresses(final long[] to, final int at, final boolean isV6, final CtRequest key)
    {
        if (isV6)
        {
            to[at] = key.srcHi();
            to[at + 1] = key.srcLo();
            to[at + 2] = key.dstHi();
            to[at + 3] = key.dstLo();
        }
        else
        {
            to[at] = (key.srcLo() & LOW32) << 32 | (key.dstLo() & LOW32);
        }
    }

    private void setReplyKey(final int ref, final CtRequest key, final int remoteBucket)
    {
        final ConnStore s = store(ref);
        final int slot = Refs.slot(ref);
        s.replyL4[slot] = ((long)key.srcL4() << 32) | (key.dstL4() & LOW32);
        writeAddresses(s.replyAddr, slot * s.addrWords, Refs.isV6(ref), key);
        s.replyBucket[slot] = remoteBucket;
        s.data[slot * s.stride + META] |= Meta.HAS_REPLY_KEY | (remoteBucket >= 0 ? Meta.REMOTE_REPLY : 0);
    }

    /** Fills {@code out} with the reply key of translated connection {@code ref} (and its hash). */
    private void replyKey(final int ref, final CtRequest out)
    {
        final ConnStore s = store(ref);
        final int slot = Refs.slot(ref);
        final long meta = s.data[slot * s.stride + META];
        final long l4 = s.replyL4[slot];
        final int at = slot * s.addrWords;
        out.clear().flags(Refs.isV6(ref) ? CtRequest.FLAG_IPV6 : 0).nwProto(Meta.proto(meta)).zone(Meta.zone(meta))
            .srcL4((int)(l4 >>> 32)).dstL4((int)l4);
        if (Refs.isV6(ref))
        {
            out.src(s.replyAddr[at], s.replyAddr[at + 1]).dst(s.replyAddr[at + 2], s.replyAddr[at + 3]);
        }
        else
        {
            out.src(0, s.replyAddr[at] >>> 32).dst(0, s.replyAddr[at] & LOW32);
        }
        out.hash(io.ctrack.engine.key.SymmetricHash.of(out));
    }

    // ---- NAT across buckets -------------------------------------------------------------------------------------

    /** A translated connection waiting for its reply tuple's reservation in another bucket. */
    private static final class Pending
    {
        final UniqueTupleSearch search;
        final long connId;
        int bucket;
        final CtRequest candidate;

        Pending(final UniqueTupleSearch search, final long connId, final int bucket, final CtRequest candidate)
        {
            this.search = search;
            this.connId = connId;
            this.bucket = bucket;
            this.candidate = candidate;
        }
    }

    public void placement(final Placement placement, final NatListener listener)
    {
        this.placement = placement;
        this.natListener = listener;
    }

    /** The candidate reply key pending connection {@code ref} waits for, or null if it is not pending. */
    public CtRequest pendingCandidate(final int ref)
    {
        final Pending pend = pending.get(ref);
        return pend == null ? null : pend.candidate;
    }

    /** The bucket asked for pending connection {@code ref}'s candidate, or -1. */
    public int pendingBucket(final int ref)
    {
        final Pending pend = pending.get(ref);
        return pend == null ? -1 : pend.bucket;
    }

    /** The id of pending connection {@code ref}, or 0. */
    public long pendingConnId(final int ref)
    {
        final Pending pend = pending.get(ref);
        return pend == null ? 0 : pend.connId;
    }

    /** Removes pending connection {@code ref} whose reservation never got an answer. */
    public boolean abandonPending(final int ref, final long connId)
    {
        final Pending pend = pending.get(ref);
        if (pend == null || pend.connId != connId || !isLiveConnection(ref, connId))
        {
            return false;
        }
        removeEntry(ref, EngineCounter.NAT_RESERVATION_TIMEOUT);
        return true;
    }

    /** The reservation was granted: the connection is complete. */
    public static final int RESERVATION_COMPLETED = 0;
    /** Refused: the next candidate is in another bucket ({@link #pendingCandidate}, {@link #pendingBucket}). */
    public static final int RESERVATION_NEXT = 1;
    /** Refused and no candidate left: the connection was removed (counted as exhaustion). */
    public static final int RESERVATION_EXHAUSTED = 2;
    /** The connection is no longer waiting (removed meanwhile): a granted reservation must be released. */
    public static final int RESERVATION_STALE = 3;

    /**
     * The answer of the bucket asked to reserve pending connection {@code ref}'s candidate. On refusal the search
     * goes on (local candidates are checked at once), so the connection may complete here too.
     */
    public int reservationResult(final int ref, final long connId, final boolean granted, final long nowMs)
    {
        final Pending pend = pending.get(ref);
        if (pend == null || pend.connId != connId || !isLiveConnection(ref, connId))
        {
            return RESERVATION_STALE;
        }
        if (granted)
        {
            counters.increment(EngineCounter.NAT_RESERVATIONS);
            recycle(pending.remove(ref));
            setReplyKey(ref, pend.candidate, pend.bucket);
            clearPending(ref);
            return RESERVATION_COMPLETED;
        }
        counters.increment(EngineCounter.NAT_RESERVATIONS_TAKEN);
        final int result = continueSearch(ref, pend.search, nowMs);
        if (result == SEARCH_FOUND)
        {
            recycle(pending.remove(ref));
            clearPending(ref);
            return RESERVATION_COMPLETED;
        }
        if (result == SEARCH_EXHAUSTED)
        {
            return RESERVATION_EXHAUSTED;
        }
        pend.candidate.copyFrom(candidate);
        pend.bucket = placement.bucketOf(candidate.hash());
        return RESERVATION_NEXT;
    }

    private void clearPending(final int ref)
    {
        final ConnStore s = store(ref);
        s.data[Refs.slot(ref) * s.stride + META] &= ~Meta.PENDING;
    }

    /**
     * Completes the verdict of the packet that created translated connection {@code ref}, once it is complete:
     * adds the translation's ct_state bit and the rewrite.
     */
    public void completeVerdict(final int ref, final Verdict out)
    {
        final long meta = meta(ref);
        out.orState(natState(meta, false));
        writeNat(ref, false, false, out);
    }

    /**
     * Reserves {@code key} (the reply key of bucket {@code ownerBucket}'s connection {@code ownerRef}, id
     * {@code connId}) as an alias, unless a connection or alias of this table already has that key in either
     * direction. Returns whether it was reserved.
     */
    public boolean reserveAlias(final CtRequest key, final int ownerBucket, final int ownerRef, final long connId,
        final long nowMs)
    {
        if (lookup(key, nowMs, false) != 0)
        {
            return false;
        }
        final boolean isV6 = key.isIpv6();
        final ConnStore s = isV6 ? v6 : v4;
        final int slot = s.allocate();
        final int ref = s.familyBit | slot;
        final long[] d = s.data;
        final int b = slot * s.stride;
        d[b + META] = Meta.of(key.nwProto(), key.zone(), 0) | Meta.ALIAS;
        d[b + ORIG_L4] = ((long)key.srcL4() << 32) | (key.dstL4() & LOW32);
        writeAddresses(d, b + ORIG_ADDR, isV6, key);
        d[b + MARK] = (long)key.hash() << 32;
        d[b + ID] = connId;
        d[b + EXPIRATION] = Long.MAX_VALUE;
        d[b + TCP0] = ((long)ownerBucket << 32) | (ownerRef & LOW32);
        index.insert(key.hash(), ref | Refs.MATCH_ORIG);
        aliases++;
        return true;
    }

    /**
     * Removes the alias of {@code key} if it belongs to bucket {@code ownerBucket}'s connection {@code connId}.
     * Returns whether one was removed.
     */
    public boolean releaseAlias(final CtRequest key, final int ownerBucket, final long connId, final long nowMs)
    {
        final int ref = lookup(key, nowMs, false);
        if (ref == 0)
        {
            return false;
        }
        final ConnStore s = store(ref);
        final int b = Refs.slot(ref) * s.stride;
        if ((s.data[b + META] & Meta.ALIAS) == 0 || s.data[b + ID] != connId
            || (int)(s.data[b + TCP0] >>> 32) != ownerBucket)
        {
            return false;
        }
        index.remove(key.hash(), ref);
        s.free(Refs.slot(ref));
        aliases--;
        return true;
    }

    /** The owner bucket of alias {@code ref}. */
    public int aliasOwnerBucket(final int ref)
    {
        final ConnStore s = store(ref);
        return (int)(s.data[Refs.slot(ref) * s.stride + TCP0] >>> 32);
    }

    /** The owner's entry reference of alias {@code ref}. */
    public int aliasOwnerRef(final int ref)
    {
        final ConnStore s = store(ref);
        return (int)s.data[Refs.slot(ref) * s.stride + TCP0];
    }

    /** The owner's connection id of alias {@code ref}. */
    public long aliasConnId(final int ref)
    {
        final ConnStore s = store(ref);
        return s.data[Refs.slot(ref) * s.stride + ID];
    }

    /** Whether the last lookup matched in the reply direction (for forwarding a packet that matched an alias). */
    public boolean lastReply()
    {
        return lastReply;
    }

    /** Aliases held for other buckets' connections. */
    public int aliasCount()
    {
        return aliases;
    }

    /** Translated connections waiting for a reservation. */
    public int pendingCount()
    {
        return pending.size();
    }

    /**
     * Calls {@code visitor} with (owner bucket, owner ref, owner connection id) and the key of every alias; and,
     * through {@code owned}, with (alias bucket, connection id) and the reply key of every connection whose reply key
     * is held as an alias elsewhere. For consistency checks; keys are valid during the call only.
     */
    public void forEachNatLink(final AliasVisitor aliases, final AliasVisitor owned)
    {
        final CtRequest key = new CtRequest();
        for (final ConnStore s : new ConnStore[] { v4, v6 })
        {
            for (int slot = 1; slot < s.highWater(); slot++)
            {
                if (!s.isLive(slot))
                {
                    continue;
                }
                final int ref = s.familyBit | slot;
                final long meta = s.data[slot * s.stride + META];
                if ((meta & Meta.ALIAS) != 0)
                {
                    keyOf(ref, key);
                    aliases.visit(aliasOwnerBucket(ref), aliasOwnerRef(ref), aliasConnId(ref), key);
                }
                else if ((meta & Meta.REMOTE_REPLY) != 0)
                {
                    replyKey(ref, key);
                    owned.visit(s.replyBucket[slot], ref, s.data[slot * s.stride + ID], key);
                }
            }
        }
    }

    private void keyOf(final int ref, final CtRequest out)
    {
        final ConnStore s = store(ref);
        final int b = Refs.slot(ref) * s.stride;
        final long[] d = s.data;
        final long meta = d[b + META];
        out.clear().flags(Refs.isV6(ref) ? CtRequest.FLAG_IPV6 : 0).nwProto(Meta.proto(meta)).zone(Meta.zone(meta))
            .srcL4((int)(d[b + ORIG_L4] >>> 32)).dstL4((int)d[b + ORIG_L4]);
        if (Refs.isV6(ref))
        {
            out.src(d[b + ORIG_ADDR], d[b + ORIG_ADDR + 1]).dst(d[b + ORIG_ADDR + 2], d[b + ORIG_ADDR + 3]);
        }
        else
        {
            out.src(0, d[b + ORIG_ADDR] >>> 32).dst(0, d[b + ORIG_ADDR] & LOW32);
        }
        out.hash(io.ctrack.engine.key.SymmetricHash.of(out));
    }

    private long meta(final int ref)
    {
        final ConnStore s = store(ref);
        return s.data[Refs.slot(ref) * s.stride + META];
    }

    private boolean isLiveConnection(final int ref, final long connId)
    {
        final ConnStore s = store(ref);
        final int slot = Refs.slot(ref);
        if (slot == 0 || slot >= s.highWater() || !s.isLive(slot))
        {
            return false;
        }
        final int b = slot * s.stride;
        return (s.data[b + META] & Meta.ALIAS) == 0 && s.data[b + ID] == connId;
    }

    /** A search object for a connection that may wait for remote candidates (reused once it is done). */
    private UniqueTupleSearch newSearch()
    {
        final UniqueTupleSearch reused = freeSearches.poll();
        return reused != null ? reused : new UniqueTupleSearch(NAT_HASH_BASIS, idBase + nextId * 0x9E37_79B9L);
    }

    private void recycle(final Pending pend)
    {
        if (pend != null && freeSearches.size() < 1024)
        {
            freeSearches.add(pend.search);
        }
    }

    void expirationShortened(final int ref, final long expirationMs)
    {
        wheel.moveEarlier(ref, expirationMs, expirationMs);
    }

    /** Removes a connection: index, zone list, expiry wheel, limits, store. */
    private void remove(final int ref, final EngineCounter reason)
    {
        removeEntry(ref, reason);
    }

    /**
     * Removes connection {@code ref} (index entries, zone list, expiry wheel, limits, store); a translated one
     * also lets the listener release its alias in another bucket. {@code reason} null: not counted (a commit
     * abandoned for NAT exhaustion).
     */
    private void removeEntry(final int ref, final EngineCounter reason)
    {
        final ConnStore s = store(ref);
        final int slot = Refs.slot(ref);
        final long[] d = s.data;
        final int b = slot * s.stride;
        final long meta = d[b + META];
        final int zone = Meta.zone(meta);
        index.remove((int)(d[b + MARK] >>> 32), ref);
        if ((meta & Meta.PENDING) != 0)
        {
            final Pending pend = pending.remove(ref);
            if (natListener != null && pend != null)
            {
                natListener.released(ref, d[b + ID], pend.bucket, pend.candidate, true);
            }
            recycle(pend);
        }
        else if ((meta & Meta.REMOTE_REPLY) != 0)
        {
            if (natListener != null)
            {
                replyKey(ref, scratchKey);
                natListener.released(ref, d[b + ID], s.replyBucket[slot], scratchKey, false);
            }
        }
        else if ((meta & Meta.HAS_REPLY_KEY) != 0)
        {
            replyKey(ref, scratchKey);
            index.remove(scratchKey.hash(), ref);
        }
        zones.remove(zone, ref);
        wheel.remove(ref);
        admission.release(zone);
        s.free(slot);
        if (reason != null)
        {
            counters.increment(reason);
        }
    }

    // ---- expiry -------------------------------------------------------------------------------------------------

    /**
     * Removes expired connections whose expiry slot has passed at {@code nowMs}, examining at most {@code budget}
     * entries. Returns how many were removed; {@link #sweepBehind(long)} tells whether more are due.
     */
    public int sweep(final long nowMs, final int budget)
    {
        sweepNowMs = nowMs;
        sweptRemoved = 0;
        final int examined = wheel.sweep(nowMs, budget, this);
        counters.increment(EngineCounter.SWEEP_STEPS);
        counters.add(EngineCounter.SWEEP_EXAMINED, examined);
        if (examined >= budget)
        {
            counters.increment(EngineCounter.SWEEP_STEPS_AT_BUDGET);
        }
        return sweptRemoved;
    }

    /** Expiry lateness of connections removed by sweeps: removal time minus expiration, in milliseconds. */
    public LatencyHistogram lateness()
    {
        return lateness;
    }

    /** True while expiry slots that have passed at {@code nowMs} remain unswept. */
    public boolean sweepBehind(final long nowMs)
    {
        return wheel.behind(nowMs);
    }

    /** The time at which the next sweep can find something, or {@link Long#MAX_VALUE} if the table is empty. */
    public long nextSweepDueMs()
    {
        return wheel.nextDueMs();
    }

    @Override
    public long expirationMs(final int ref)
    {
        final ConnStore s = store(ref);
        return s.data[Refs.slot(ref) * s.stride + EXPIRATION];
    }

    @Override
    public void expired(final int ref)
    {
        lateness.record(sweepNowMs - expirationMs(ref));
        remove(ref, EngineCounter.CONN_EXPIRED);
        sweptRemoved++;
    }

    // ---- admin --------------------------------------------------------------------------------------------------

    /** Live and not-yet-swept connections. */
    public int size()
    {
        return v4.size() + v6.size() - aliases;
    }

    /** Connections in {@code zone} (including expired ones not yet swept). */
    public int zoneSize(final int zone)
    {
        return zones.count(zone);
    }

    /** Zones that hold connections, ascending. */
    public int[] zones()
    {
        return zones.zones();
    }

    /** Removes up to {@code budget} connections of {@code zone}; returns how many were removed. */
    public int flushZone(final int zone, final int budget)
    {
        int removed = 0;
        while (removed < budget)
        {
            final int ref = zones.first(zone);
            if (ref == 0)
            {
                break;
            }
            remove(ref, EngineCounter.CONN_FLUSHED);
            removed++;
        }
        return removed;
    }

    /** Removes up to {@code budget} connections of any zone; returns how many were removed. */
    public int flushAll(final int budget)
    {
        int removed = 0;
        while (removed < budget && zones.zones().length > 0)
        {
            final int zone = zones.zones()[0];
            removed += flushZone(zone, budget - removed);
        }
        return removed;
    }

    /**
     * Removes the connection whose original or reply key is {@code r}'s key (Open vSwitch's
     * {@code conntrack_flush_tuple}). Returns whether one was found.
     */
    public boolean flushKey(final CtRequest r, final long nowMs)
    {
        final int ref = lookup(r, nowMs, true);
        if (ref == 0 || (meta(ref) & Meta.PENDING) != 0)
        {
            return false;
        }
        remove(ref, EngineCounter.CONN_FLUSHED);
        return true;
    }

    /**
     * The alias {@code r}'s key matches, or 0: the key is the reply key of another bucket's translated connection
     * (see {@link #aliasOwnerBucket}, {@link #aliasOwnerRef}, {@link #aliasConnId}).
     */
    public int findAlias(final CtRequest r, final long nowMs)
    {
        final int ref = lookup(r, nowMs, false);
        return ref != 0 && (meta(ref) & Meta.ALIAS) != 0 ? ref : 0;
    }

    /** Removes connection {@code ref} if it is still connection {@code connId} (flush by tuple through an alias). */
    public boolean flushRef(final int ref, final long connId)
    {
        if (!isLiveConnection(ref, connId) || (meta(ref) & Meta.PENDING) != 0)
        {
            return false;
        }
        remove(ref, EngineCounter.CONN_FLUSHED);
        return true;
    }

    /** The live connection {@code r}'s key belongs to, wrapped in a view valid until the next call, or null. */
    public ConnEntry find(final CtRequest r, final long nowMs)
    {
        final int ref = lookup(r, nowMs);
        return ref == 0 ? null : wrap(view, ref);
    }

    /**
     * Calls {@code visitor} for every live connection (zone {@code zone}, or all zones if negative), zone by
     * zone in ascending order. The view passed is valid only during the call; the visitor must not modify the
     * table.
     */
    public void forEach(final int zone, final long nowMs, final Consumer<ConnEntry> visitor)
    {
        if (zone >= 0)
        {
            forEachInZone(zone, nowMs, visitor);
            return;
        }
        for (final int z : zones.zones())
        {
            forEachInZone(z, nowMs, visitor);
        }
    }

    private void forEachInZone(final int zone, final long nowMs, final Consumer<ConnEntry> visitor)
    {
        for (int ref = zones.first(zone); ref != 0; ref = zones.next(ref))
        {
            final ConnEntry e = wrap(view, ref);
            if (nowMs < e.expirationMs() && (meta(ref) & Meta.PENDING) == 0)
            {
                visitor.accept(e);
            }
        }
    }

    /** Scan cursor that starts a scan. */
    public static final long SCAN_START = 0;
    /** Scan cursor returned when a scan is complete. */
    public static final long SCAN_DONE = -1;

    /**
     * Visits live connections in storage order, a slice at a time: starting at {@code cursor}
     * ({@link #SCAN_START} the first time), examining at most {@code maxSlots} slots. Returns the cursor to continue
     * from, or {@link #SCAN_DONE}. The cursor stays valid across other calls (removals included), so a dump or a
     * filtered flush can be spread over many messages while packets are tracked in between; connections created
     * meanwhile may or may not be visited. If {@code remove} is non-null, every visited connection it accepts is
     * removed (counted as flushed) after the visit.
     */
    public long scan(final long cursor, final int maxSlots, final long nowMs, final Consumer<ConnEntry> visitor,
        final java.util.function.Predicate<ConnEntry> remove)
    {
        if (cursor == SCAN_DONE)
        {
            return SCAN_DONE;
        }
        boolean v6Part = (cursor >>> 32) != 0;
        int slot = Math.max(1, (int)cursor);
        int examined = 0;
        while (examined < maxSlots)
        {
            final ConnStore s = v6Part ? v6 : v4;
            if (slot >= s.highWater())
            {
                if (v6Part)
                {
                    return SCAN_DONE;
                }
                v6Part = true;
                slot = 1;
                continue;
            }
            examined++;
            if (s.isLive(slot) && (s.data[slot * s.stride + META] & (Meta.ALIAS | Meta.PENDING)) == 0)
            {
                final int ref = s.familyBit | slot;
                final ConnEntry e = wrap(view, ref);
                if (nowMs < e.expirationMs())
                {
                    if (visitor != null)
                    {
                        visitor.accept(e);
                    }
                    if (remove != null && remove.test(e))
                    {
                        remove(ref, EngineCounter.CONN_FLUSHED);
                    }
                }
            }
            slot++;
        }
        return (v6Part ? 1L << 32 : 0) | slot;
    }

    /** Pre-sizes the IPv4 store and the index for {@code connections} connections. */
    public void reserve(final int connections)
    {
        v4.ensureCapacity(connections);
        index.reserve(connections);
    }

    /** Bytes held by the table's arrays (stores, index, wheel, zone index). */
    public long memoryBytes()
    {
        return v4.memoryBytes() + v6.memoryBytes() + index.memoryBytes() + wheel.memoryBytes() + zones.memoryBytes();
    }

    /** Index load, for diagnostics. */
    public double indexLoad()
    {
        return index.load();
    }
}
