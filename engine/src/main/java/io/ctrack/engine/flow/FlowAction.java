package io.ctrack.engine.flow;

import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.nat.NatSpec;

/** One action of a flow: {@code ct(...)}, {@code output:N}, {@code NORMAL} or {@code drop}. */
public sealed interface FlowAction permits FlowAction.Output, FlowAction.Normal, FlowAction.Drop, FlowAction.Ct
{
    /** {@code output:PORT}. */
    record Output(int port) implements FlowAction
    {
        @Override
        public String toString()
        {
            return "output:" + port;
        }
    }

    /** {@code NORMAL}: the switch's own forwarding. */
    enum Normal implements FlowAction
    {
        INSTANCE;

        @Override
        public String toString()
        {
            return "NORMAL";
        }
    }

    /** {@code drop}: no output (an action list without output drops too). */
    enum Drop implements FlowAction
    {
        INSTANCE;

        @Override
        public String toString()
        {
            return "drop";
        }
    }

    /**
     * {@code ct(commit,force,zone=Z,table=T,nat(...),exec(set_field:V/M->ct_mark,...))}. {@code table} is -1 when
     * the packet does not continue in another table. The action as a {@code ct} execution is {@link #params()}.
     */
    record Ct(boolean commit, boolean force, int zone, int table, NatSpec nat, boolean setMark, int markValue,
        int markMask, boolean setLabel, long labelValueLo, long labelValueHi, long labelMaskLo, long labelMaskHi,
        String text) implements FlowAction
    {
        /** The execution parameters of this action (a new object: callers keep it). */
        public ExecParams params()
        {
            final ExecParams p = new ExecParams().zone(zone).commit(commit).force(force).nat(nat);
            if (setMark)
            {
                p.mark(markValue, markMask);
            }
            if (setLabel)
            {
                p.label(labelValueLo, labelValueHi, labelMaskLo, labelMaskHi);
            }
            return p;
        }

        @Override
        public String toString()
        {
            return text;
        }
    }
}
