package io.ctrack.engine.table;

import io.ctrack.engine.status.EngineCounter;
import org.agrona.collections.Int2IntHashMap;

/**
 * Limits for one thread: the global connection limit (default 3,000,000 as in Open vSwitch) and per-zone limits
 * with a default per-zone limit, checked against exact counts of live connections. A limit of 0 means
 * unlimited, as {@code ovs-dpctl ct-set-limits} documents it. The zone limit is checked before the global one.
 * <p>
 * Differences from Open vSwitch's userspace datapath, on purpose: counts are of all live connections in the zone
 * (Open vSwitch counts only those admitted while a limit existed, so a limit set on a busy zone starts from 0);
 * a per-zone limit of 0 is unlimited (Open vSwitch's userspace datapath refuses every commit in that zone).
 */
public final class LocalLimits implements Admission
{
    public static final int DEFAULT_MAX_CONNS = 3_000_000;

    private final Int2IntHashMap limitByZone = new Int2IntHashMap(-1);
    private final Int2IntHashMap countByZone = new Int2IntHashMap(0);
    private long maxConns = DEFAULT_MAX_CONNS;
    private int defaultZoneLimit;
    private long count;

    @Override
    public int tryAdmit(final int zone)
    {
        final int zoneCount = countByZone.get(zone);
        final int limit = zoneLimit(zone);
        if (limit > 0 && zoneCount >= limit)
        {
            return EngineCounter.COMMIT_REFUSED_ZONE_LIMIT.id();
        }
        if (count >= maxConns)
        {
            return EngineCounter.COMMIT_REFUSED_TABLE_FULL.id();
        }
        countByZone.put(zone, zoneCount + 1);
        count++;
        return ADMITTED;
    }

    @Override
    public void release(final int zone)
    {
        final int zoneCount = countByZone.get(zone) - 1;
        if (zoneCount <= 0)
        {
            countByZone.remove(zone);
        }
        else
        {
            countByZone.put(zone, zoneCount);
        }
        count--;
    }

    /** The limit that applies to {@code zone}: its own, else the default; 0 = unlimited. */
    public int zoneLimit(final int zone)
    {
        return limitByZone.containsKey(zone) ? limitByZone.get(zone) : defaultZoneLimit;
    }

    /** Whether {@code zone} has a limit of its own. */
    public boolean hasOwnLimit(final int zone)
    {
        return limitByZone.containsKey(zone);
    }

    public void setZoneLimit(final int zone, final int limit)
    {
        Admission.checkZone(zone);
        Admission.checkLimit("zone limit", limit);
        limitByZone.put(zone, limit);
    }

    public void deleteZoneLimit(final int zone)
    {
        Admission.checkZone(zone);
        limitByZone.remove(zone);
    }

    public int defaultZoneLimit()
    {
        return defaultZoneLimit;
    }

    public void defaultZoneLimit(final int limit)
    {
        defaultZoneLimit = Admission.checkLimit("default zone limit", limit);
    }

    public long maxConns()
    {
        return maxConns;
    }

    public void maxConns(final long maxConns)
    {
        this.maxConns = Admission.checkMaxConns(maxConns);
    }

    public long count()
    {
        return count;
    }

    public int zoneCount(final int zone)
    {
        return countByZone.get(zone);
    }

    /** Zones with a limit of their own, ascending. */
    public int[] limitedZones()
    {
        final int[] zones = new int[limitByZone.size()];
        int i = 0;
        for (final Int2IntHashMap.EntryIterator it = limitByZone.entrySet().iterator(); it.hasNext(); )
        {
            it.next();
            zones[i++] = it.getIntKey();
        }
        java.util.Arrays.sort(zones);
        return zones;
    }
}
