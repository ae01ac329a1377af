package io.ctrack.engine.packet;

import org.agrona.DirectBuffer;

import java.nio.ByteOrder;

import static io.ctrack.engine.packet.Protocols.IP6F_OFF_MASK;
import static io.ctrack.engine.packet.Protocols.IPPROTO_AH;
import static io.ctrack.engine.packet.Protocols.IPPROTO_DSTOPTS;
import static io.ctrack.engine.packet.Protocols.IPPROTO_FRAGMENT;
import static io.ctrack.engine.packet.Protocols.IPPROTO_HOPOPTS;
import static io.ctrack.engine.packet.Protocols.IPPROTO_ROUTING;

/**
 * Walks an IPv6 extension-header chain (hop-by-hop, routing, destination options, AH, fragment) the way Open
 * vSwitch's {@code parse_ipv6_ext_hdrs} does: it stops at the first header it does not know (the transport
 * header, or ESP, or "no next header"), reports a first fragment as {@code FRAG_ANY} and continues through it,
 * and stops at a later fragment with protocol 44. Results are read from the fields after {@link #parse}.
 * Reused: not thread-safe.
 */
public final class Ipv6ExtHeaders
{
    private int offset;
    private int remaining;
    private int nwProto;
    private int nwFrag;
    private int fragHeaderOffset;

    /**
     * Parses the chain that starts with {@code nextHeader} at {@code offset}, {@code size} bytes available.
     *
     * @return false if a header does not fit in the bytes available.
     */
    public boolean parse(final DirectBuffer buffer, final int offset, final int size, final int nextHeader)
    {
        int p = offset;
        int left = size;
        int proto = nextHeader;
        int frag = 0;
        fragHeaderOffset = ParsedFrame.NONE;
        while (true)
        {
            if (proto != IPPROTO_HOPOPTS && proto != IPPROTO_ROUTING && proto != IPPROTO_DSTOPTS
                && proto != IPPROTO_AH && proto != IPPROTO_FRAGMENT)
            {
                break;
            }
            // Every extension header is at least 8 bytes; only the first 8 are read.
            if (left < 8)
            {
                return false;
            }
            final int next = buffer.getByte(p) & 0xFF;
            final int length;
            if (proto == IPPROTO_HOPOPTS || proto == IPPROTO_DSTOPTS || proto == IPPROTO_ROUTING)
            {
                length = ((buffer.getByte(p + 1) & 0xFF) + 1) * 8;
            }
            else if (proto == IPPROTO_AH)
            {
                length = ((buffer.getByte(p + 1) & 0xFF) + 2) * 4;
            }
            else
            {
                length = 8;
            }
            if (left < length)
            {
                return false;
            }
            final int fragmentOffsetAndFlags = proto == IPPROTO_FRAGMENT ?
                buffer.getShort(p + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF : 0;
            if (proto == IPPROTO_FRAGMENT)
            {
                fragHeaderOffset = p;
            }
            proto = next;
            p += length;
            left -= length;
            if (fragmentOffsetAndFlags != 0)
            {
                frag = ParsedFrame.FRAG_ANY;
                if ((fragmentOffsetAndFlags & IP6F_OFF_MASK) != 0)
                {
                    frag |= ParsedFrame.FRAG_LATER;
                    proto = IPPROTO_FRAGMENT;
                    break;
                }
            }
        }
        this.offset = p;
        this.remaining = left;
        this.nwProto = proto;
        this.nwFrag = frag;
        return true;
    }

    /** Offset of the first byte after the chain. */
    public int offset()
    {
        return offset;
    }

    public int remaining()
    {
        return remaining;
    }

    public int nwProto()
    {
        return nwProto;
    }

    public int nwFrag()
    {
        return nwFrag;
    }

    /** Offset of the last fragment header met, or {@link ParsedFrame#NONE}. */
    public int fragHeaderOffset()
    {
        return fragHeaderOffset;
    }
}
