package io.ctrack.engine.l4;

import io.ctrack.engine.key.CtRequest;
import io.ctrack.engine.packet.Protocols;
import io.ctrack.engine.table.ConnEntry;
import io.ctrack.engine.timeout.TimeoutAttr;

/**
 * ICMP and ICMPv6 informational exchanges (Open vSwitch's {@code conntrack-icmp.c}): FIRST until a reply,
 * then REPLY. Only requests (ICMPv4 echo, timestamp and information requests; ICMPv6 echo requests) may start
 * a connection; errors never reach a tracker (they are related to the connection they quote).
 */
public final class IcmpTracker implements L4Tracker
{
    static final int FIRST = 0;
    static final int REPLY = 1;

    private final boolean v6;

    public IcmpTracker(final boolean v6)
    {
        this.v6 = v6;
    }

    @Override
    public boolean validNew(final CtRequest request)
    {
        final int type = request.icmpType();
        if (v6)
        {
            return type == Protocols.ICMP6_ECHO_REQUEST;
        }
        return type == Protocols.ICMP4_ECHO_REQUEST || type == Protocols.ICMP4_INFOREQUEST
            || type == Protocols.ICMP4_TIMESTAMP;
    }

    @Override
    public void create(final ConnEntry entry, final CtRequest request, final long nowMs)
    {
        entry.smallState(FIRST);
        entry.expireAfter(TimeoutAttr.ICMP_FIRST, nowMs);
    }

    @Override
    public int update(
        final ConnEntry entry, final CtRequest request, final boolean reply, final long nowMs, final boolean sequenceCheck)
    {
        int state = entry.smallState();
        int result = VALID;
        if (reply && state == FIRST)
        {
            state = REPLY;
            entry.smallState(state);
        }
        else if (state == FIRST)
        {
            result = VALID_NEW;
        }
        entry.expireAfter(state == FIRST ? TimeoutAttr.ICMP_FIRST : TimeoutAttr.ICMP_REPLY, nowMs);
        return result;
    }

    @Override
    public void appendProtoInfo(final ConnEntry entry, final StringBuilder out)
    {
    }
}
