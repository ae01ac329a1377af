package io.ctrack.engine.l4;

import io.ctrack.engine.key.CtRequest;
import io.ctrack.engine.packet.Protocols;
import io.ctrack.engine.table.ConnEntry;
import io.ctrack.engine.timeout.TimeoutAttr;

/**
 * ICMP and ICMPv6 informational exchanges (Open vSwitch's {@code conntrack-icmp.c}): FIRST until a reply,
 * then REPLY. Chosen by protocol number (1 or 58) whatever the address family, as Open vSwitch does. Only requests (ICMPv4 echo, timestamp and information requests; ICMPv6 echo requests) may start
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
        // The first byte of the L4 header: the ICMP type (also when the packet's family is not this tracker's, as
        // Open vSwitch applies the tracker by protocol number).
        final int type = request.l4Type();
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
