package io.ctrack.engine.table;

import org.agrona.collections.Int2IntHashMap;

import java.util.Arrays;

/**
 * Per-zone lists of connections and per-zone counts, so a zone can be listed, counted or flushed without
 * walking other zones. Lists are threaded through each entry's zone-links word; a small primitive map gives
 * each zone in use a list number.
 */
final class ZoneIndex
{
    private final Links links;
    private final Int2IntHashMap listByZone = new Int2IntHashMap(-1);
    private int[] heads = new int[16];
    private int[] tails = new int[16];
    private int[] counts = new int[16];
    private int[] zoneOfList = new int[16];
    private int[] freeLists = new int[16];
    private int freeCount;
    private int nextList;

    ZoneIndex(final Links links)
    {
        this.links = links;
    }

    void add(final int zone, final int ref)
    {
        int list = listByZone.get(zone);
        if (list < 0)
        {
            list = newList(zone);
        }
        links.append(heads, tails, list, ref);
        counts[list]++;
    }

    void remove(final int zone, final int ref)
    {
        final int list = listByZone.get(zone);
        links.unlink(heads, tails, ref);
        if (--counts[list] == 0)
        {
            listByZone.remove(zone);
            freeLists[freeCount++] = list;
        }
    }

    int count(final int zone)
    {
        final int list = listByZone.get(zone);
        return list < 0 ? 0 : counts[list];
    }

    /** First connection of the zone, or 0. */
    int first(final int zone)
    {
        final int list = listByZone.get(zone);
        return list < 0 ? 0 : heads[list];
    }

    int next(final int ref)
    {
        return links.next(ref);
    }

    /** Zones that have connections, ascending. */
    int[] zones()
    {
        final int[] zones = new int[listByZone.size()];
        int i = 0;
        for (final Int2IntHashMap.EntryIterator it = listByZone.entrySet().iterator(); it.hasNext(); )
        {
            it.next();
            zones[i++] = it.getIntKey();
        }
        Arrays.sort(zones);
        return zones;
    }

    long memoryBytes()
    {
        return (long)heads.length * 20 + listByZone.capacity() * 8L;
    }

    private int newList(final int zone)
    {
        final int list;
        if (freeCount > 0)
        {
            list = freeLists[--freeCount];
        }
        else
        {
            list = nextList++;
            if (list == heads.length)
            {
                final int n = heads.length * 2;
                heads = Arrays.copyOf(heads, n);
                tails = Arrays.copyOf(tails, n);
                counts = Arrays.copyOf(counts, n);
                zoneOfList = Arrays.copyOf(zoneOfList, n);
                freeLists = Arrays.copyOf(freeLists, n);
            }
        }
        heads[list] = 0;
        tails[list] = 0;
        counts[list] = 0;
        zoneOfList[list] = zone;
        listByZone.put(zone, list);
        return list;
    }
}
