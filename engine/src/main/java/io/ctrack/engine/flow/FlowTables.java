package io.ctrack.engine.flow;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A set of flow tables (Open vSwitch's pipeline): per table, flows in the order they are tried, highest priority
 * first (equal priorities in file order). A packet that matches no flow of a table is dropped (the table-miss of
 * Open vSwitch's default). Immutable: rules change by replacing the whole set, which gets a new
 * {@link #generation()} (caches of per-connection results compare it).
 */
public final class FlowTables
{
    /** Tables are numbered 0-254, as in Open vSwitch. */
    public static final int MAX_TABLES = 255;

    private final Flow[][] tables;
    private final Flow[] byId;
    private final int generation;
    private final String source;

    FlowTables(final List<Flow> flows, final int generation, final String source)
    {
        final List<List<Flow>> perTable = new ArrayList<>();
        for (int t = 0; t < MAX_TABLES; t++)
        {
            perTable.add(new ArrayList<>());
        }
        for (final Flow f : flows)
        {
            perTable.get(f.table).add(f);
        }
        int last = 0;
        for (int t = 0; t < MAX_TABLES; t++)
        {
            if (!perTable.get(t).isEmpty())
            {
                last = t + 1;
            }
        }
        this.tables = new Flow[last][];
        for (int t = 0; t < last; t++)
        {
            final List<Flow> list = perTable.get(t);
            list.sort(Comparator.comparingInt((Flow f) -> -f.priority).thenComparingInt(f -> f.id));
            tables[t] = list.toArray(new Flow[0]);
        }
        this.byId = new Flow[flows.size() + 1];
        for (final Flow f : flows)
        {
            byId[f.id] = f;
        }
        this.generation = generation;
        this.source = source;
    }

    /** The first flow of {@code table} that matches {@code fields}, or null (table miss: drop). */
    public Flow lookup(final int table, final PacketFields fields)
    {
        if (table >= tables.length)
        {
            return null;
        }
        for (final Flow f : tables[table])
        {
            if (f.match.matches(fields))
            {
                return f;
            }
        }
        return null;
    }

    /** The flow with id {@code id} (1-based), or null for 0. */
    public Flow flow(final int id)
    {
        return id <= 0 || id >= byId.length ? null : byId[id];
    }

    public int flowCount()
    {
        return byId.length - 1;
    }

    public int generation()
    {
        return generation;
    }

    /** The same flows, with another generation (for a reload of the same text). */
    public FlowTables withGeneration(final int newGeneration)
    {
        final List<Flow> flows = new ArrayList<>();
        for (int id = 1; id < byId.length; id++)
        {
            flows.add(byId[id]);
        }
        return new FlowTables(flows, newGeneration, source);
    }

    public String source()
    {
        return source;
    }
}
