package io.ctrack.engine.nat;

import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.packet.Checksums;
import io.ctrack.engine.packet.Crc32c;
import io.ctrack.engine.packet.FrameParser;
import io.ctrack.engine.packet.Ipv6ExtHeaders;
import io.ctrack.engine.packet.ParsedFrame;
import io.ctrack.engine.packet.Protocols;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * Applies the NAT part of a verdict to the packet it answers, as Open vSwitch's {@code nat_packet} does: the
 * translated address (and the IPv4 header checksum), both ports or the ICMP id, and the TCP, UDP, ICMP and ICMPv6
 * checksums, updated incrementally (RFC 1624; SCTP's CRC32c by difference, so a packet that came with a wrong
 * checksum keeps a wrong one). For an ICMP error related to a translated connection, the outer address is
 * translated and the quoted packet gets the reverse translation (its addresses, ports, IP header checksum and,
 * where the quote holds them, its L4 checksum); the ICMP checksum is then recomputed over the whole message.
 * <p>
 * IP fragments are not rewritten (the reassembled datagram was tracked; its fragments pass as they came). One per
 * thread; nothing is allocated per packet.
 */
public final class NatRewriter
{
    private static final ByteOrder BE = ByteOrder.BIG_ENDIAN;
    private static final int ICMP_HEADER_LENGTH = 8;

    private final FrameParser parser = new FrameParser();
    private final ParsedFrame frame = new ParsedFrame();
    private final Ipv6ExtHeaders extHeaders = new Ipv6ExtHeaders();

    /**
     * Rewrites the frame of {@code length} bytes at {@code offset} by the NAT part of {@code verdict}. Returns
     * false, leaving the frame as it was, if the verdict has no NAT part or the frame is a fragment or cannot be
     * parsed.
     */
    public boolean apply(final MutableDirectBuffer buffer, final int offset, final int length, final Verdict verdict)
    {
        if (!verdict.hasNat())
        {
            return false;
        }
        return apply(buffer, offset, length, verdict.natOp(), verdict.natKeySrcPort(), verdict.natKeyDstPort(),
            verdict.natAddrHi(), verdict.natAddrLo());
    }

    /** {@link #apply(MutableDirectBuffer, int, int, Verdict)} with the NAT part given field by field. */
    public boolean apply(final MutableDirectBuffer buffer, final int offset, final int length, final int op,
        final int keySrcPort, final int keyDstPort, final long addrHi, final long addrLo)
    {
        parser.parse(buffer, offset, length, frame);
        final int l3 = frame.l3Offset();
        final int l4 = frame.l4Offset();
        if (l3 == ParsedFrame.NONE || l4 == ParsedFrame.NONE || frame.nwFrag() != 0)
        {
            return false;
        }
        final boolean v6 = frame.dlType() == Protocols.ETH_TYPE_IPV6;
        final int proto = frame.nwProto();
        final int l4Size = frame.l4Size();
        final boolean source = (op & Verdict.NAT_REWRITE_SOURCE) != 0;
        final boolean related = (op & Verdict.NAT_RELATED) != 0;

        if (v6)
        {
            setIpv6Address(buffer, l3, source, proto, l4, l4Size, addrHi, addrLo);
        }
        else
        {
            setIpv4Address(buffer, l3, source, proto, l4, l4Size, (int)addrLo);
        }
        if (!related)
        {
            // pat_packet: the ports become the key's, reversed; an ICMPv4 query takes the key's id.
            setPorts(buffer, proto, v6, l4, l4Size, keyDstPort, keySrcPort, keySrcPort);
            return true;
        }

        // An ICMP error: the quoted packet gets the reverse translation, then the ICMP checksum is recomputed.
        final int innerL3 = l4 + ICMP_HEADER_LENGTH;
        final int end = l4 + l4Size;
        if (!v6)
        {
            if (end - innerL3 < 20)
            {
                return true;
            }
            final int ihl = (buffer.getByte(innerL3) & 0x0F) * 4;
            if (ihl < 20 || end - innerL3 < ihl)
            {
                return true;
            }
            final int innerProto = buffer.getByte(innerL3 + 9) & 0xFF;
            final int innerL4 = innerL3 + ihl;
            setIpv4Address(buffer, innerL3, !source, innerProto, innerL4, end - innerL4, (int)addrLo);
            setPorts(buffer, innerProto, false, innerL4, end - innerL4, keySrcPort, keyDstPort, keySrcPort);
            buffer.putShort(l4 + 2, (short)0, BE);
            buffer.putShort(l4 + 2, (short)Checksums.checksum(buffer, l4, l4Size), BE);
        }
        else
        {
            if (end - innerL3 < 40
                || !extHeaders.parse(buffer, innerL3 + 40, end - innerL3 - 40, buffer.getByte(innerL3 + 6) & 0xFF))
            {
                return true;
            }
            final int innerProto = extHeaders.nwProto();
            final int innerL4 = extHeaders.offset();
            setIpv6Address(buffer, innerL3, !source, innerProto, innerL4, end - innerL4, addrHi, addrLo);
            setPorts(buffer, innerProto, true, innerL4, end - innerL4, keySrcPort, keyDstPort, keySrcPort);
            buffer.putShort(l4 + 2, (short)0, BE);
            final long sum = Checksums.add(Checksums.ipv6PseudoHeader(buffer, l3, Protocols.IPPROTO_ICMPV6, l4Size),
                buffer, l4, l4Size);
            buffer.putShort(l4 + 2, (short)Checksums.finish(sum), BE);
        }
        return true;
    }

    /**
     * Sets the source or destination of the IPv4 header at {@code l3}, updating its checksum and, when the L4
     * header is there in full, the TCP or UDP checksum (ICMP's covers no addresses).
     */
    private static void setIpv4Address(final MutableDirectBuffer buffer, final int l3, final boolean source,
        final int proto, final int l4, final int l4Size, final int address)
    {
        final int at = l3 + (source ? 12 : 16);
        final int old = buffer.getInt(at, BE);
        if (old == address)
        {
            return;
        }
        buffer.putInt(at, address, BE);
        updateChecksum32(buffer, l3 + 10, old, address);
        updatePseudoHeaderChecksum(buffer, proto, l4, l4Size, old, address);
    }

    private static void setIpv6Address(final MutableDirectBuffer buffer, final int l3, final boolean source,
        final int proto, final int l4, final int l4Size, final long hi, final long lo)
    {
        final int at = l3 + (source ? 8 : 24);
        for (int word = 0; word < 4; word++)
        {
            final int newWord = (int)((word < 2 ? hi : lo) >>> (32 - 32 * (word & 1)));
            final int old = buffer.getInt(at + 4 * word, BE);
            if (old != newWord)
            {
                buffer.putInt(at + 4 * word, newWord, BE);
                updatePseudoHeaderChecksum(buffer, proto, l4, l4Size, old, newWord);
            }
        }
    }

    private static void updatePseudoHeaderChecksum(final MutableDirectBuffer buffer, final int proto, final int l4,
        final int l4Size, final int old, final int value)
    {
        if (proto == Protocols.IPPROTO_TCP && l4Size >= 20)
        {
            updateChecksum32(buffer, l4 + 16, old, value);
        }
        else if (proto == Protocols.IPPROTO_UDP && l4Size >= 8)
        {
            updateUdpChecksum32(buffer, l4 + 6, old, value);
        }
        else if (proto == Protocols.IPPROTO_ICMPV6 && l4Size >= 4)
        {
            updateChecksum32(buffer, l4 + 2, old, value);
        }
    }

    /**
     * Sets the L4 source and destination ports (TCP, UDP, SCTP) or, for an ICMPv4 query, the id; checksums follow.
     * Fields beyond the end of a truncated (quoted) header are left alone.
     */
    private static void setPorts(final MutableDirectBuffer buffer, final int proto, final boolean v6, final int l4,
        final int l4Size, final int sport, final int dport, final int icmpId)
    {
        if (proto == Protocols.IPPROTO_TCP || proto == Protocols.IPPROTO_UDP)
        {
            if (l4Size < 4)
            {
                return;
            }
            final int oldSport = buffer.getShort(l4, BE) & 0xFFFF;
            final int oldDport = buffer.getShort(l4 + 2, BE) & 0xFFFF;
            buffer.putShort(l4, (short)sport, BE);
            buffer.putShort(l4 + 2, (short)dport, BE);
            if (proto == Protocols.IPPROTO_TCP && l4Size >= 20)
            {
                updateChecksum16(buffer, l4 + 16, oldSport, sport);
                updateChecksum16(buffer, l4 + 16, oldDport, dport);
            }
            else if (proto == Protocols.IPPROTO_UDP && l4Size >= 8)
            {
                updateUdpChecksum16(buffer, l4 + 6, oldSport, sport);
                updateUdpChecksum16(buffer, l4 + 6, oldDport, dport);
            }
        }
        else if (proto == Protocols.IPPROTO_SCTP)
        {
            if (l4Size < 12)
            {
                if (l4Size >= 4)
                {
                    buffer.putShort(l4, (short)sport, BE);
                    buffer.putShort(l4 + 2, (short)dport, BE);
                }
                return;
            }
            final int before = sctpCrc(buffer, l4, l4Size);
            buffer.putShort(l4, (short)sport, BE);
            buffer.putShort(l4 + 2, (short)dport, BE);
            final int after = sctpCrc(buffer, l4, l4Size);
            final int stored = buffer.getInt(l4 + 8, ByteOrder.LITTLE_ENDIAN);
            buffer.putInt(l4 + 8, stored ^ before ^ after, ByteOrder.LITTLE_ENDIAN);
        }
        else if (!v6 && proto == Protocols.IPPROTO_ICMP && l4Size >= 8 && isIcmpQuery(buffer.getByte(l4) & 0xFF))
        {
            final int old = buffer.getShort(l4 + 4, BE) & 0xFFFF;
            buffer.putShort(l4 + 4, (short)icmpId, BE);
            updateChecksum16(buffer, l4 + 2, old, icmpId);
        }
    }

    /** Open vSwitch's {@code packet_is_icmpv4_info_message}: echo, timestamp and information request/reply. */
    private static boolean isIcmpQuery(final int type)
    {
        return type == 0 || type == 8 || type == 13 || type == 14 || type == 15 || type == 16;
    }

    private static int sctpCrc(final DirectBuffer buffer, final int l4, final int length)
    {
        int crc = Crc32c.update(0xFFFF_FFFF, buffer, l4, 8);
        crc = Crc32c.updateZeros(crc, 4);
        crc = Crc32c.update(crc, buffer, l4 + 12, length - 12);
        return ~crc;
    }

    private static void updateChecksum16(final MutableDirectBuffer buffer, final int at, final int old, final int value)
    {
        final int checksum = buffer.getShort(at, BE) & 0xFFFF;
        buffer.putShort(at, (short)Checksums.update16(checksum, old, value), BE);
    }

    private static void updateChecksum32(final MutableDirectBuffer buffer, final int at, final int old, final int value)
    {
        final int checksum = buffer.getShort(at, BE) & 0xFFFF;
        buffer.putShort(at, (short)Checksums.update32(checksum, old, value), BE);
    }

    /** UDP over IPv4 may carry no checksum (0): leave it so; a computed 0 is sent as 0xFFFF. */
    private static void updateUdpChecksum16(final MutableDirectBuffer buffer, final int at, final int old, final int value)
    {
        final int checksum = buffer.getShort(at, BE) & 0xFFFF;
        if (checksum != 0)
        {
            final int updated = Checksums.update16(checksum, old, value);
            buffer.putShort(at, (short)(updated == 0 ? 0xFFFF : updated), BE);
        }
    }

    private static void updateUdpChecksum32(final MutableDirectBuffer buffer, final int at, final int old, final int value)
    {
        final int checksum = buffer.getShort(at, BE) & 0xFFFF;
        if (checksum != 0)
        {
            final int updated = Checksums.update32(checksum, old, value);
            buffer.putShort(at, (short)(updated == 0 ? 0xFFFF : updated), BE);
        }
    }
}
