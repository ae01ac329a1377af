package io.ctrack.engine.table;

import io.ctrack.engine.key.CtRequest;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.status.EngineCounters;
import io.ctrack.engine.status.LatencyHistogram;
import io.ctrack.engine.timeout.TimeoutAttr;
import io.ctrack.engine.timeout.TimeoutPolicies;

import java.util.function.Consumer;

import static io.ctrack.engine.table.ConnStore.*;

/**
 * Where a {@link ConnTable} keeps its connections, and what it does to them besides tracking packets: lookup by
 * key, removal, expiry sweeps, zone flushes, scans and dumps, the single-pass pipeline's per-connection cache.
 * <p>
 * Storage: an open-addressing index ({@link ConnIndex}: 32-bit hash | entry reference, linear probing,
 * backward-shift deletion, load at most 0.7) over two fixed-stride entry stores, one per address family (88 bytes
 * per IPv4 connection, 112 per IPv6). Connections without NAT have one index entry that matches both directions
 * (the hash is symmetric). Nothing is allocated per lookup; inserting allocates only when a store or the index
 * doubles. Not thread-safe: the bucket's owner thread alone calls it.
 */
abstract class ConnTableStorage implements ExpiryWheel.ExpiredSink
{
    static final long LOW32 = 0xFFFF_FFFFL;
    /** Scan cursor that starts a scan. */
    public static final long SCAN_START = 0;
    /** Scan cursor returned when a scan is complete. */
    public static final long SCAN_DONE = -1;

    final ConnStore v4;
    final ConnStore v6;
    final Links zoneLinks;
    final ZoneIndex zones;
    final ExpiryWheel wheel;
    final TimeoutPolicies policies;
    final Admission admission;
    final EngineCounters counters;
    final ConnEntry entry;
    final ConnEntry view;
    final long idBase;
    long nextId = 1;
    final ConnIndex index;
    boolean lastReply;
    final LatencyHistogram lateness = new LatencyHistogram();
    int aliases;
    long sweepNowMs;
    int sweptRemoved;

    ConnTableStorage(final ConnTableConfig config, final TimeoutPolicies policies, final Admission admission,
        final EngineCounters counters)
    {
        this.policies = policies;
        this.entry = new ConnEntry(this, policies.defaultMillis());
        this.view = new ConnEntry(this, policies.defaultMillis());
        this.admission = admission;
        this.counters = counters;
        this.idBase = (long)config.tableId() << 40;
        this.v4 = new ConnStore(false, config.initialCapacity());
        this.v6 = new ConnStore(true, Math.max(16, config.initialCapacity() / 16));
        this.zoneLinks = new Links(v4, v6, ZONE_LINKS);
        this.zones = new ZoneIndex(zoneLinks);
        this.wheel = new ExpiryWheel(new Links(v4, v6, EXPIRY_LINKS), config.wheelSlots(), config.wheelSlotMs());
        this.index = new ConnIndex(config.initialCapacity());
    }

    /**
     * Releases what a translated connection holds besides its main index entry, as it is removed: its reply key's
     * index entry, a pending reservation, or the alias another bucket keeps for it.
     */
    abstract void releaseTranslation(int ref, long meta, ConnStore s, int slot);

    long timeoutMillis(final int policyId, final TimeoutAttr attr)
    {
        return policies.millis(policyId, attr);
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

    static void clearFlowCache(final ConnStore s, final int slot)
    {
        if (s.flowCache != null)
        {
            java.util.Arrays.fill(s.flowCache, slot * 4, slot * 4 + 4, 0L);
        }
    }

    ConnEntry wrap(final ConnEntry e, final int ref)
    {
        return e.wrap(Refs.isV6(ref) ? v6 : v4, ref);
    }

    ConnStore store(final int ref)
    {
        return Refs.isV6(ref) ? v6 : v4;
    }

    /** Finds the live connection {@code r}'s key belongs to; sets {@link #lastReply}. Returns 0 if none. */
    int lookup(final CtRequest r, final long nowMs)
    {
        return lookup(r, nowMs, false);
    }

    /**
     * Finds the live entry (connection or, unless {@code ignoreAliases}, alias) {@code r}'s key belongs to; sets
     * {@link #lastReply}. Returns 0 if none.
     */
    int lookup(final CtRequest r, final long nowMs, final boolean ignoreAliases)
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
    int match(final int ref, final CtRequest r)
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

    void setReplyKey(final int ref, final CtRequest key, final int remoteBucket)
    {
        final ConnStore s = store(ref);
        final int slot = Refs.slot(ref);
        s.replyL4[slot] = ((long)key.srcL4() << 32) | (key.dstL4() & LOW32);
        writeAddresses(s.replyAddr, slot * s.addrWords, Refs.isV6(ref), key);
        s.replyBucket[slot] = remoteBucket;
        s.data[slot * s.stride + META] |= Meta.HAS_REPLY_KEY | (remoteBucket >= 0 ? Meta.REMOTE_REPLY : 0);
    }

    /** Fills {@code out} with the reply key of translated connection {@code ref} (and its hash). */
    void replyKey(final int ref, final CtRequest out)
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

    void keyOf(final int ref, final CtRequest out)
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

    long meta(final int ref)
    {
        final ConnStore s = store(ref);
        return s.data[Refs.slot(ref) * s.stride + META];
    }

    boolean isLiveConnection(final int ref, final long connId)
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

    void expirationShortened(final int ref, final long expirationMs)
    {
        wheel.moveEarlier(ref, expirationMs, expirationMs);
    }

    /** Removes a connection: index, zone list, expiry wheel, limits, store. */
    void remove(final int ref, final EngineCounter reason)
    {
        removeEntry(ref, reason);
    }

    /**
     * Removes connection {@code ref} (index entries, zone list, expiry wheel, limits, store); a translated one
     * also lets the listener release its alias in another bucket. {@code reason} null: not counted (a commit
     * abandoned for NAT exhaustion).
     */
    void removeEntry(final int ref, final EngineCounter reason)
    {
        final ConnStore s = store(ref);
        final int slot = Refs.slot(ref);
        final long[] d = s.data;
        final int b = slot * s.stride;
        final long meta = d[b + META];
        final int zone = Meta.zone(meta);
        index.remove((int)(d[b + MARK] >>> 32), ref);
        releaseTranslation(ref, meta, s, slot);
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
     * (see {@link ConnTable#aliasOwnerBucket}, {@link ConnTable#aliasOwnerRef}, {@link ConnTable#aliasConnId}).
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

    void forEachInZone(final int zone, final long nowMs, final Consumer<ConnEntry> visitor)
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
