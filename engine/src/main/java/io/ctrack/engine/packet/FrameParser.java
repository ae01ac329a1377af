package io.ctrack.engine.packet;

import org.agrona.DirectBuffer;

import java.nio.ByteOrder;

import static io.ctrack.engine.packet.Protocols.ETH_HEADER_LENGTH;
import static io.ctrack.engine.packet.Protocols.ETH_TYPE_IPV4;
import static io.ctrack.engine.packet.Protocols.ETH_TYPE_IPV6;
import static io.ctrack.engine.packet.Protocols.ETH_TYPE_MIN;
import static io.ctrack.engine.packet.Protocols.ETH_TYPE_MPLS;
import static io.ctrack.engine.packet.Protocols.ETH_TYPE_MPLS_MCAST;
import static io.ctrack.engine.packet.Protocols.ETH_TYPE_NONE;
import static io.ctrack.engine.packet.Protocols.ETH_TYPE_VLAN_8021AD;
import static io.ctrack.engine.packet.Protocols.ETH_TYPE_VLAN_8021Q;
import static io.ctrack.engine.packet.Protocols.IPV4_HEADER_LENGTH;
import static io.ctrack.engine.packet.Protocols.IPV6_HEADER_LENGTH;
import static io.ctrack.engine.packet.Protocols.IP_FRAG_OFF_MASK;
import static io.ctrack.engine.packet.Protocols.IP_MORE_FRAGMENTS;
import static io.ctrack.engine.packet.Protocols.MAX_VLAN_HEADERS;

/**
 * Finds the layers of an Ethernet frame the way Open vSwitch's {@code miniflow_extract} does before
 * conntrack runs: up to two VLAN tags (802.1Q, 802.1ad), LLC/SNAP, an MPLS label stack, then an IPv4 header
 * (sanity-checked: header length and total length against the frame, the version nibble is not checked) or
 * an IPv6 header and its extension headers. The datagram's end is taken from the IP length, the rest of the
 * frame is padding. Never throws and never allocates. Not thread-safe (one per packet thread).
 */
public final class FrameParser
{
    private static final int MPLS_BOS = 0x100;
    private final Ipv6ExtHeaders extHeaders = new Ipv6ExtHeaders();

    /**
     * Parses the frame of {@code length} bytes at {@code offset} into {@code out}.
     */
    public void parse(final DirectBuffer buffer, final int offset, final int length, final ParsedFrame out)
    {
        out.reset(buffer, offset, length);
        if (length < ETH_HEADER_LENGTH)
        {
            return;
        }

        int p = offset + 12;
        int size = length - 12;
        int vlans = 0;
        int type = buffer.getShort(p, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        while ((type == ETH_TYPE_VLAN_8021Q || type == ETH_TYPE_VLAN_8021AD) && vlans < MAX_VLAN_HEADERS)
        {
            if (size < 6)
            {
                break;
            }
            p += 4;
            size -= 4;
            vlans++;
            type = buffer.getShort(p, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        }
        p += 2;
        size -= 2;
        if (type < ETH_TYPE_MIN)
        {
            type = llcSnapType(buffer, p, size);
            if (type != ETH_TYPE_NONE)
            {
                p += 8;
                size -= 8;
            }
        }
        out.dlType = type;

        if (type == ETH_TYPE_MPLS || type == ETH_TYPE_MPLS_MCAST)
        {
            while (size >= 4)
            {
                final int lse = buffer.getInt(p, ByteOrder.BIG_ENDIAN);
                p += 4;
                size -= 4;
                if ((lse & MPLS_BOS) != 0)
                {
                    break;
                }
            }
        }

        out.l3Offset = p;
        if (type == ETH_TYPE_IPV4)
        {
            parseIpv4(buffer, p, size, out);
        }
        else if (type == ETH_TYPE_IPV6)
        {
            parseIpv6(buffer, p, size, out);
        }
    }

    private static int llcSnapType(final DirectBuffer buffer, final int p, final int size)
    {
        if (size < 8)
        {
            return ETH_TYPE_NONE;
        }
        if ((buffer.getByte(p) & 0xFF) != 0xAA || (buffer.getByte(p + 1) & 0xFF) != 0xAA
            || (buffer.getByte(p + 2) & 0xFF) != 0x03 || buffer.getByte(p + 3) != 0
            || buffer.getByte(p + 4) != 0 || buffer.getByte(p + 5) != 0)
        {
            return ETH_TYPE_NONE;
        }
        final int snapType = buffer.getShort(p + 6, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        return snapType >= ETH_TYPE_MIN ? snapType : ETH_TYPE_NONE;
    }

    private static void parseIpv4(final DirectBuffer buffer, final int p, final int size, final ParsedFrame out)
    {
        if (size < IPV4_HEADER_LENGTH)
        {
            return;
        }
        final int headerLength = (buffer.getByte(p) & 0x0F) * 4;
        if (headerLength < IPV4_HEADER_LENGTH || size < headerLength)
        {
            return;
        }
        final int totalLength = buffer.getShort(p + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        if (totalLength > size || headerLength > totalLength || size - totalLength > 0xFFFF)
        {
            return;
        }
        out.l2PadSize = size - totalLength;
        out.nwProto = buffer.getByte(p + 9) & 0xFF;
        final int fragField = buffer.getShort(p + 6, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        if ((fragField & (IP_MORE_FRAGMENTS | IP_FRAG_OFF_MASK)) != 0)
        {
            out.nwFrag = ParsedFrame.FRAG_ANY;
            if ((fragField & IP_FRAG_OFF_MASK) != 0)
            {
                out.nwFrag |= ParsedFrame.FRAG_LATER;
            }
        }
        out.l4Offset = p + headerLength;
    }

    private void parseIpv6(final DirectBuffer buffer, final int p, final int size, final ParsedFrame out)
    {
        if (size < IPV6_HEADER_LENGTH)
        {
            return;
        }
        final int payloadLength = buffer.getShort(p + 4, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        if (payloadLength + IPV6_HEADER_LENGTH > size || size - (payloadLength + IPV6_HEADER_LENGTH) > 0xFFFF)
        {
            return;
        }
        out.l2PadSize = size - IPV6_HEADER_LENGTH - payloadLength;
        if (!extHeaders.parse(buffer, p + IPV6_HEADER_LENGTH, payloadLength, buffer.getByte(p + 6) & 0xFF))
        {
            return;
        }
        out.nwProto = extHeaders.nwProto();
        out.nwFrag = extHeaders.nwFrag();
        out.l4Offset = extHeaders.offset();
    }
}
