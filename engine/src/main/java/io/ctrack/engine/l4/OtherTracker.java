package io.ctrack.engine.l4;

import io.ctrack.engine.key.CtRequest;
import io.ctrack.engine.table.ConnEntry;
import io.ctrack.engine.timeout.TimeoutAttr;

/**
 * UDP, SCTP and every protocol without a tracker of its own (Open vSwitch's {@code conntrack-other.c}): FIRST
 * after the first packet, MULTIPLE after more in the original direction, BIDIR once a reply is seen. Only
 * BIDIR packets are {@code est}; anything may start a connection.
 */
public final class OtherTracker implements L4Tracker
{
    static final int FIRST = 0;
    static final int MULTIPLE = 1;
    static final int BIDIR = 2;

    private static final TimeoutAttr[] TIMEOUT_BY_STATE =
        { TimeoutAttr.UDP_FIRST, TimeoutAttr.UDP_SINGLE, TimeoutAttr.UDP_MULTIPLE };

    @Override
    public boolean validNew(final CtRequest request)
    {
        return true;
    }

    @Override
    public void create(final ConnEntry entry, final CtRequest request, final long nowMs)
    {
        entry.smallState(FIRST);
        entry.expireAfter(TimeoutAttr.UDP_FIRST, nowMs);
    }

    @Override
    public int update(
        final ConnEntry entry, final CtRequest request, final boolean reply, final long nowMs, final boolean sequenceCheck)
    {
        int state = entry.smallState();
        if (reply && state != BIDIR)
        {
            state = BIDIR;
            entry.smallState(state);
        }
        else if (state == FIRST)
        {
            state = MULTIPLE;
            entry.smallState(state);
        }
        entry.expireAfter(TIMEOUT_BY_STATE[state], nowMs);
        return state == BIDIR ? VALID : VALID_NEW;
    }

    @Override
    public void appendProtoInfo(final ConnEntry entry, final StringBuilder out)
    {
    }
}
