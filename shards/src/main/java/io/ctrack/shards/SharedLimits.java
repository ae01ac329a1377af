package io.ctrack.shards;

import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.table.Admission;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The node's connection limits, shared by all its buckets without locks: the global connection limit and
 * per-zone limits (a default and per-zone values; 0 = unlimited), checked against exact counts kept in atomic
 * counters. A bucket reserves before it commits ({@link #tryAdmit}, compare-and-set against the limit) and
 * releases on every removal, so the counts never drift and a limit is never exceeded, even by buckets committing
 * at the same moment.
 */
public final class SharedLimits implements Admission
{
    public static final long DEFAULT_MAX_CONNS = 3_000_000;
    private static final int ZONES = 65_536;
    /** Marks "no limit of its own" in {@link #limitByZone}. */
    private static final int NO_OWN_LIMIT = -1;

    private final AtomicLong count = new AtomicLong();
    private final AtomicIntegerArray countByZone = new AtomicIntegerArray(ZONES);
    private final AtomicIntegerArray limitByZone = new AtomicIntegerArray(ZONES);
    private volatile long maxConns = DEFAULT_MAX_CONNS;
    private volatile int defaultZoneLimit;

    public SharedLimits()
    {
        for (int zone = 0; zone < ZONES; zone++)
        {
            limitByZone.set(zone, NO_OWN_LIMIT);
        }
    }

    @Override
    public int tryAdmit(final int zone)
    {
        // Compare-and-set loops: a commit is refused only if the count really is at the limit, even when other
        // buckets are committing at the same moment.
        final int limit = zoneLimit(zone);
        int zoneCount;
        do
        {
            zoneCount = countByZone.get(zone);
            if (limit > 0 && zoneCount >= limit)
            {
                return EngineCounter.COMMIT_REFUSED_ZONE_LIMIT.id();
            }
        }
        while (!countByZone.compareAndSet(zone, zoneCount, zoneCount + 1));
        final long max = maxConns;
        long total;
        do
        {
            total = count.get();
            if (total >= max)
            {
                countByZone.decrementAndGet(zone);
                return EngineCounter.COMMIT_REFUSED_TABLE_FULL.id();
            }
        }
        while (!count.compareAndSet(total, total + 1));
        return ADMITTED;
    }

    @Override
    public void release(final int zone)
    {
        countByZone.decrementAndGet(zone);
        count.decrementAndGet();
    }

    /** The limit that applies to {@code zone}: its own, else the default; 0 = unlimited. */
    public int zoneLimit(final int zone)
    {
        final int own = limitByZone.get(zone);
        return own != NO_OWN_LIMIT ? own : defaultZoneLimit;
    }

    public boolean hasOwnLimit(final int zone)
    {
        return limitByZone.get(zone) != NO_OWN_LIMIT;
    }

    public void setZoneLimit(final int zone, final int limit)
    {
        Admission.checkZone(zone);
        Admission.checkLimit("zone limit", limit);
        limitByZone.set(zone, limit);
    }

    public void deleteZoneLimit(final int zone)
    {
        Admission.checkZone(zone);
        limitByZone.set(zone, NO_OWN_LIMIT);
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

    /** Connections committed and not yet removed, node-wide. */
    public long count()
    {
        return count.get();
    }

    public int zoneCount(final int zone)
    {
        return countByZone.get(zone);
    }

    /** Zones with a limit of their own, ascending. */
    public int[] limitedZones()
    {
        int n = 0;
        for (int zone = 0; zone < ZONES; zone++)
        {
            n += limitByZone.get(zone) != NO_OWN_LIMIT ? 1 : 0;
        }
        final int[] zones = new int[n];
        int i = 0;
        for (int zone = 0; zone < ZONES; zone++)
        {
            if (limitByZone.get(zone) != NO_OWN_LIMIT)
            {
                zones[i++] = zone;
            }
        }
        return zones;
    }
}
