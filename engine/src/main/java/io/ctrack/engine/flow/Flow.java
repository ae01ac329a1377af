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
        for (final FlowAction a : actions)
        {
            if (a instanceof FlowAction.Ct c)
            {
                first = c;
                break;
            }
        }
        this.ct = first;
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
        int n = 0;
        for (final FlowAction a : actions)
        {
            n += a instanceof FlowAction.Ct ? 1 : 0;
        }
        return n;
    }

    @Override
    public String toString()
    {
        return text;
    }
}
