package io.ctrack.engine.table;

import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.key.CtRequest;
import io.ctrack.engine.l4.IcmpTracker;
import io.ctrack.engine.l4.L4Tracker;
import io.ctrack.engine.l4.OtherTracker;
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
    private static final double MAX_LOAD = 0.7;
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

    private long[] index;
    private int mask;
    private int indexCount;
    private int resizeAt;

    private boolean lastReply;
    private final LatencyHistogram lateness = new LatencyHistogram();
    private long sweepNowMs;
    private int sweptRemoved;

    public ConnTable(final ConnTableConfig config, final TimeoutPolicies policies, final Admission admission,
        final EngineCounters counters)
    {
        this.policies = policies;
        this.admission = admission;
        this.counters = counters;
        this.idBase = (long)config.tableId() << 40;
        this.v4 = new ConnStore(false, config.initialCapacity());
        this.v6 = new ConnStore(true, Math.max(16, config.initialCapacity() / 16));
        this.zoneLinks = new Links(v4, v6, ZONE_LINKS);
        this.zones = new ZoneIndex(zoneLinks);
        this.wheel = new ExpiryWheel(new Links(v4, v6, EXPIRY_LINKS), config.wheelSlots(), config.wheelSlotMs());
        final int indexSize = Math.max(16, Integer.highestOneBit((int)Math.ceil(config.initialCapacity() / MAX_LOAD)) * 2);
        allocateIndex(indexSize);

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
     */
    public void execute(final CtRequest r, final ExecParams p, final long nowMs, final Verdict out)
    {
        final boolean related = r.isIcmpRelated();
        final L4Tracker tracker = trackerByProto[r.nwProto()];
        int state = r.inState();
        int reason = 0;
        int ref = lookup(r, nowMs);
        final boolean reply = lastReply;

        if (ref != 0 && reply && p.force())
        {
            // force: a connection seen from its reply direction is ended and started over from this packet.
            remove(ref, EngineCounter.CONN_REPLACED);
            ref = 0;
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
                    ref = create(r, nowMs, tracker);
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
            }
            long labelLo = 0;
            long labelHi = 0;
            if (p.setLabel())
            {
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
            out.set(state, mark, d[markAt - MARK + ID], labelLo, labelHi);
        }
        if (reason != 0)
        {
            out.reason(reason);
            counters.increment(EngineCounter.byId(reason));
        }
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
        final int hash = r.hash();
        final long[] idx = index;
        final int m = mask;
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
                    if (nowMs >= s.data[Refs.slot(e) * s.stride + EXPIRATION])
                    {
                        remove(e, EngineCounter.CONN_EXPIRED);
                        return 0;
                    }
                    lastReply = match == 2;
                    return e;
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

    private int create(final CtRequest r, final long nowMs, final L4Tracker tracker)
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
        if (isV6)
        {
            d[b + ORIG_ADDR] = r.srcHi();
            d[b + ORIG_ADDR + 1] = r.srcLo();
            d[b + ORIG_ADDR + 2] = r.dstHi();
            d[b + ORIG_ADDR + 3] = r.dstLo();
        }
        else
        {
            d[b + ORIG_ADDR] = (r.srcLo() & LOW32) << 32 | (r.dstLo() & LOW32);
        }
        final int hash = r.hash();
        d[b + MARK] = (long)hash << 32;
        d[b + ID] = idBase | nextId++;

        final ConnEntry e = wrap(entry, ref);
        e.creating = true;
        tracker.create(e, r, nowMs);
        e.creating = false;
        wheel.insert(ref, d[b + EXPIRATION], nowMs);
        zones.add(zone, ref);
        indexInsert(hash, ref | Refs.MATCH_BOTH);
        counters.increment(EngineCounter.CONN_CREATED);
        return ref;
    }

    void expirationShortened(final int ref, final long expirationMs)
    {
        wheel.moveEarlier(ref, expirationMs, expirationMs);
    }

    /** Removes a connection: index, zone list, expiry wheel, limits, store. */
    private void remove(final int ref, final EngineCounter reason)
    {
        final ConnStore s = store(ref);
        final int slot = Refs.slot(ref);
        final long[] d = s.data;
        final int b = slot * s.stride;
        final int zone = Meta.zone(d[b + META]);
        indexRemove((int)(d[b + MARK] >>> 32), ref);
        zones.remove(zone, ref);
        wheel.remove(ref);
        admission.release(zone);
        s.free(slot);
        counters.increment(reason);
    }

    // ---- index --------------------------------------------------------------------------------------------------

    private void allocateIndex(final int size)
    {
        index = new long[size];
        mask = size - 1;
        resizeAt = (int)(size * MAX_LOAD);
    }

    private void indexInsert(final int hash, final int ref)
    {
        if (indexCount + 1 > resizeAt)
        {
            growIndex();
        }
        final long[] idx = index;
        int i = hash & mask;
        while (idx[i] != 0)
        {
            i = (i + 1) & mask;
        }
        idx[i] = ((long)hash << 32) | (ref & LOW32);
        indexCount++;
    }

    private void growIndex()
    {
        final long[] old = index;
        allocateIndex(old.length * 2);
        final long[] idx = index;
        for (final long v : old)
        {
            if (v != 0)
            {
                int i = (int)(v >>> 32) & mask;
                while (idx[i] != 0)
                {
                    i = (i + 1) & mask;
                }
                idx[i] = v;
            }
        }
    }

    private void indexRemove(final int hash, final int entryRef)
    {
        final long[] idx = index;
        final int m = mask;
        int i = hash & m;
        while (true)
        {
            final long v = idx[i];
            if (v == 0)
            {
                throw new IllegalStateException("index entry missing for connection " + Integer.toHexString(entryRef));
            }
            if ((int)(v >>> 32) == hash && Refs.entry((int)v) == entryRef)
            {
                break;
            }
            i = (i + 1) & m;
        }
        // Backward-shift deletion (Knuth 6.4, algorithm R): no tombstones, probe sequences stay short.
        int hole = i;
        int j = i;
        while (true)
        {
            j = (j + 1) & m;
            final long v = idx[j];
            if (v == 0)
            {
                break;
            }
            final int home = (int)(v >>> 32) & m;
            final boolean stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
            if (!stays)
            {
                idx[hole] = v;
                hole = j;
            }
        }
        idx[hole] = 0;
        indexCount--;
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
        return v4.size() + v6.size();
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
        while (removed < budget && size() > 0)
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
        final int ref = lookup(r, nowMs);
        if (ref == 0)
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
            if (nowMs < e.expirationMs())
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
            if (s.isLive(slot))
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
        while (resizeAt < connections)
        {
            growIndex();
        }
    }

    /** Bytes held by the table's arrays (stores, index, wheel, zone index). */
    public long memoryBytes()
    {
        return v4.memoryBytes() + v6.memoryBytes() + (long)index.length * 8 + wheel.memoryBytes() + zones.memoryBytes();
    }

    /** Index load, for diagnostics. */
    public double indexLoad()
    {
        return (double)indexCount / index.length;
    }
}
