package io.ctrack.engine.flow;

import java.util.List;

/**
 * One flow of a table: priority, match and actions, the line it came from, and an id (1-based, unique in its
 * {@link FlowTables}) by which a bucket names it in a verdict.
 */
public final class Flow
{
    final int id;
    final int table;
    final int priority;
    final int line;
    final Match match;
    final List<FlowAction> actions;
    /** The first {@code ct} action, or null. */
    final FlowAction.Ct ct;
    /** The ports the actions output to, in order ({@link PipelineRunner#NORMAL} for {@code NORMAL}). */
    final int[] outputs;
    private final int ctCount;
    final String text;

    Flow(final int id, final int table, final int priority, final int line, final Match match,
        final List<FlowAction> actions, final String text)
    {
        this.id = id;
        this.table = table;
        this.priority = priority;
        this.line = line;
        this.match = match;
        this.actions = List.copyOf(actions);
        FlowAction.Ct first = null;
        int cts = 0;
        final int[] ports = new int[actions.size()];
        int outs = 0;
        for (final FlowAction a : actions)
        {
            if (a instanceof FlowAction.Ct c)
            {
                first = first == null ? c : first;
                cts++;
            }
            else if (a instanceof FlowAction.Output o)
            {
                ports[outs++] = o.port();
            }
            else if (a == FlowAction.Normal.INSTANCE)
            {
                ports[outs++] = PipelineRunner.NORMAL;
            }
        }
        this.ct = first;
        this.ctCount = cts;
        this.outputs = java.util.Arrays.copyOf(ports, outs);
        this.text = text;
    }

    public int id()
    {
        return id;
    }

    public int table()
    {
        return table;
    }

    public int priority()
    {
        return priority;
    }

    public int line()
    {
        return line;
    }

    public Match match()
    {
        return match;
    }

    public List<FlowAction> actions()
    {
        return actions;
    }

    /** Number of {@code ct} actions in the list. */
    public int ctCount()
    {
        return ctCount;
    }

    @Override
    public String toString()
    {
        return text;
    }
}
