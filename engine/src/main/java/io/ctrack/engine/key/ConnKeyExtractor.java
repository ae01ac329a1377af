package io.ctrack.engine.key;

import io.ctrack.engine.packet.Checksums;
import io.ctrack.engine.packet.Crc32c;
import io.ctrack.engine.packet.Ipv6ExtHeaders;
import io.ctrack.engine.packet.ParsedFrame;
import io.ctrack.engine.packet.RecordWords;
import io.ctrack.engine.status.EngineCounter;
import org.agrona.DirectBuffer;

import java.nio.ByteOrder;

import static io.ctrack.engine.packet.Protocols.*;

/**
 * Builds a {@link CtRequest} from a parsed frame with Open vSwitch's validation ({@code conn_key_extract},
 * {@code extract_l3_*}, {@code extract_l4*}, {@code check_l4_*}): IPv4 header length and checksum, no later
 * fragments, IPv6 extension headers and no fragments, TCP data offset and checksum, UDP length and checksum
 * (checksum 0 allowed on IPv4 only), SCTP chunk lengths and CRC32c, ICMP and ICMPv6 checksums, informational
 * ICMP types with code 0, and ICMP errors whose quoted packet yields the key (reversed) of the connection it
 * relates to, provided the quoted source is the error's destination. Port 0 is invalid.
 * <p>
 * Returns {@link #OK} or the {@link EngineCounter} id of the reason the packet is invalid. Never throws, never
 * allocates. Not thread-safe: one per packet thread.
 */
public final class ConnKeyExtractor
{
    public static final int OK = -1;

    private static final int TCPOPT_EOL = 0;
    private static final int TCPOPT_NOP = 1;
    private static final int TCPOPT_WINDOW = 3;
    private static final int TCP_MAX_WSCALE = 14;
    /** Open vSwitch's {@code CT_WSCALE_FLAG}: the peer sent a window-scale option. */
    public static final int WSCALE_FLAG = 0x80;

    private final Ipv6ExtHeaders extHeaders = new Ipv6ExtHeaders();
    private DirectBuffer buffer;
    private CtRequest out;
    private boolean ipv6;

    /**
     * Extracts the key of the frame in {@code frame} into {@code request}. The frame must come from
     * {@link io.ctrack.engine.packet.FrameParser} (or be a datagram the reassembler built), whose checks of the IP
     * header lengths it relies on.
     *
     * @param verifyIpChecksum false when the IPv4 header checksum is already known good (a reassembled datagram).
     */
    public int extract(final ParsedFrame frame, final int zone, final boolean verifyIpChecksum, final CtRequest request)
    {
        final int dlType = frame.dlType();
        if (dlType != ETH_TYPE_IPV4 && dlType != ETH_TYPE_IPV6)
        {
            return EngineCounter.INVALID_NOT_IP.id();
        }
        if (frame.l3Offset() == ParsedFrame.NONE || frame.l4Offset() == ParsedFrame.NONE)
        {
            return EngineCounter.INVALID_L3_HEADER.id();
        }
        buffer = frame.buffer();
        out = request;
        // Every field the table may read is written below (L4 words, TCP fields or the L4 type), so no clear().
        request.zone(zone).inState(0).srcL4(0).dstL4(0).l4Type(0);
        final int l3 = frame.l3Offset();
        final int result;
        if (dlType == ETH_TYPE_IPV4)
        {
            // The frame parser has checked the header length against the datagram (Open vSwitch's
            // extract_l3_ipv4 checks repeat miniflow's sanity checks); what is left: no later fragment, checksum.
            ipv6 = false;
            if ((frame.nwFrag() & ParsedFrame.FRAG_LATER) != 0)
            {
                return EngineCounter.INVALID_FRAGMENT.id();
            }
            if (verifyIpChecksum && Checksums.ipv4Header(buffer, l3, frame.l4Offset() - l3) != 0)
            {
                return EngineCounter.INVALID_L3_CHECKSUM.id();
            }
            final long addresses = buffer.getLong(l3 + 12, ByteOrder.BIG_ENDIAN);
            final int proto = frame.nwProto();
            request.flags(0).nwProto(proto).src(0, addresses >>> 32).dst(0, addresses & 0xFFFF_FFFFL);
            result = extractL4(proto, l3, frame.l4Offset(), frame.l4Size());
        }
        else
        {
            // The frame parser has walked the extension headers; a fragment (first or later) is invalid here.
            ipv6 = true;
            if (frame.nwFrag() != 0)
            {
                return EngineCounter.INVALID_FRAGMENT.id();
            }
            final int proto = frame.nwProto();
            request.flags(CtRequest.FLAG_IPV6).nwProto(proto)
                .src(buffer.getLong(l3 + 8, ByteOrder.BIG_ENDIAN), buffer.getLong(l3 + 16, ByteOrder.BIG_ENDIAN))
                .dst(buffer.getLong(l3 + 24, ByteOrder.BIG_ENDIAN), buffer.getLong(l3 + 32, ByteOrder.BIG_ENDIAN));
            result = extractL4(proto, l3, frame.l4Offset(), frame.l4Size());
        }
        if (result == OK)
        {
            request.hash(SymmetricHash.of(request));
        }
        return result;
    }

    /**
     * The common frame in one pass, without {@link io.ctrack.engine.packet.FrameParser}: untagged Ethernet, an
     * IPv4 header of 20 bytes with a good checksum, not a fragment, and a valid UDP or TCP header with non-zero
     * ports. Returns {@link #OK} with {@code request} filled exactly as the parser and {@link #extract} would fill
     * it, or {@link #NOT_FAST} (with {@code request} untouched) for every other frame, valid or not, which then
     * takes the general path. Reads the fixed headers as four words after one bounds check of them; a TCP
     * segment's checksum and options are read as the general path reads them.
     */
    public int extractIpv4Fast(final DirectBuffer frame, final int offset, final int length, final int zone,
        final CtRequest request)
    {
        if (length < FAST_UDP_FRAME)
        {
            return NOT_FAST;
        }
        RecordWords.check(frame, offset, FAST_UDP_FRAME);
        // Big-endian words over bytes 12-19 (EtherType, version/IHL, TOS, total length, id), 20-27 (fragment
        // field, TTL, protocol, checksum, source high half) and 28-35 (source low half, destination, first port).
        final long w12 = Long.reverseBytes(RecordWords.get(frame, offset + 12));
        final long w20 = Long.reverseBytes(RecordWords.get(frame, offset + 20));
        final long w28 = Long.reverseBytes(RecordWords.get(frame, offset + 28));
        if ((w12 >>> 40) != FAST_ETH_IPV4_IHL5)
        {
            return NOT_FAST;
        }
        final int totalLength = (int)(w12 >>> 16) & 0xFFFF;
        final int size = length - ETH_HEADER_LENGTH;
        if (totalLength < IPV4_HEADER_LENGTH || totalLength > size || size - totalLength > 0xFFFF
            || ((w20 >>> 48) & (IP_MORE_FRAGMENTS | IP_FRAG_OFF_MASK)) != 0)
        {
            return NOT_FAST;
        }
        final long headerSum = ((w12 >>> 32) & 0xFFFF) + (w12 & 0xFFFF_FFFFL) + (w20 >>> 32) + (w20 & 0xFFFF_FFFFL)
            + (w28 >>> 48) + ((w28 >>> 16) & 0xFFFF_FFFFL);
        if (Checksums.finish(headerSum) != 0)
        {
            return NOT_FAST;
        }
        // The transport parts are methods of their own, so that each stays small enough for the JIT to inline.
        final int proto = (int)(w20 >>> 32) & 0xFF;
        if (proto == IPPROTO_UDP)
        {
            return udpFast(frame, offset, totalLength - IPV4_HEADER_LENGTH, zone, w20, w28, request);
        }
        if (proto == IPPROTO_TCP)
        {
            return tcpFast(frame, offset, totalLength - IPV4_HEADER_LENGTH, zone, w20, w28, request);
        }
        return NOT_FAST;
    }

    private static int udpFast(final DirectBuffer frame, final int offset, final int l4Size, final int zone,
        final long w20, final long w28, final CtRequest request)
    {
        final int l4 = offset + ETH_HEADER_LENGTH + IPV4_HEADER_LENGTH;
        final long w34 = Long.reverseBytes(RecordWords.get(frame, l4));
        final int srcL4 = (int)(w34 >>> 32) & 0xFFFF_0000;
        final int dstL4 = (int)(w34 >>> 32) << 16;
        final int udpLength = (int)(w34 >>> 16) & 0xFFFF;
        if (srcL4 == 0 || dstL4 == 0 || l4Size < UDP_HEADER_LENGTH || udpLength < UDP_HEADER_LENGTH
            || udpLength > l4Size
            || ((w34 & 0xFFFF) != 0 && !Checksums.ipv4UpperLayerValid(frame, offset + ETH_HEADER_LENGTH, l4, l4Size)))
        {
            return NOT_FAST;
        }
        request.l4Type((int)(w34 >>> 56));
        fillFast(request, zone, IPPROTO_UDP, w20, w28, srcL4, dstL4);
        return OK;
    }

    private int tcpFast(final DirectBuffer frame, final int offset, final int l4Size, final int zone,
        final long w20, final long w28, final CtRequest request)
    {
        final int l4 = offset + ETH_HEADER_LENGTH + IPV4_HEADER_LENGTH;
        if (l4Size < TCP_HEADER_LENGTH)
        {
            return NOT_FAST;
        }
        final int ports = frame.getInt(l4, ByteOrder.BIG_ENDIAN);
        final int srcL4 = ports & 0xFFFF_0000;
        final int dstL4 = ports << 16;
        final int control = frame.getShort(l4 + 12, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        final int headerLength = (control >>> 12) * 4;
        if (srcL4 == 0 || dstL4 == 0 || headerLength < TCP_HEADER_LENGTH || headerLength > l4Size
            || !Checksums.ipv4UpperLayerValid(frame, offset + ETH_HEADER_LENGTH, l4, l4Size))
        {
            return NOT_FAST;
        }
        tcpFields(frame, l4, control, l4Size - headerLength, request);
        fillFast(request, zone, IPPROTO_TCP, w20, w28, srcL4, dstL4);
        return OK;
    }

    /** The fields both fast transports set: the key from the IPv4 words, the zone, no flags, the hash. */
    private static void fillFast(final CtRequest request, final int zone, final int proto, final long w20,
        final long w28, final int srcL4, final int dstL4)
    {
        final long srcAddr = (w20 & 0xFFFF) << 16 | w28 >>> 48;
        final long dstAddr = (w28 >>> 16) & 0xFFFF_FFFFL;
        request.zone(zone).inState(0).srcL4(srcL4).dstL4(dstL4).flags(0).nwProto(proto).src(0, srcAddr).dst(0, dstAddr)
            .hash(SymmetricHash.ipv4((int)srcAddr, srcL4, (int)dstAddr, dstL4, proto, zone & 0xFFFF));
    }

    /** {@link #extractIpv4Fast}: the frame is not one it handles; take the general path. */
    public static final int NOT_FAST = -2;
    /** Untagged Ethernet, IPv4, version 4 and a 20-byte header: bytes 12-14 of the frame. */
    private static final long FAST_ETH_IPV4_IHL5 = (long)ETH_TYPE_IPV4 << 8 | 0x45;
    private static final int FAST_UDP_FRAME = ETH_HEADER_LENGTH + IPV4_HEADER_LENGTH + UDP_HEADER_LENGTH;

    private int extractL4(final int proto, final int l3, final int l4, final int size)
    {
        if (proto != IPPROTO_TCP && size > 0)
        {
            out.l4Type(buffer.getByte(l4) & 0xFF);
        }
        switch (proto)
        {
            case IPPROTO_TCP:
                return extractTcp(l3, l4, size);
            case IPPROTO_UDP:
                return extractUdp(l3, l4, size);
            case IPPROTO_SCTP:
                return extractSctp(l4, size);
            case IPPROTO_ICMP:
                return ipv6 ? OK : extractIcmp4(l3, l4, size);
            case IPPROTO_ICMPV6:
                return ipv6 ? extractIcmp6(l3, l4, size) : OK;
            default:
                return OK;
        }
    }

    private boolean upperLayerChecksumValid(final int proto, final int l3, final int l4, final int size)
    {
        return ipv6 ? Checksums.ipv6UpperLayerValid(buffer, l3, proto, l4, size) :
            Checksums.ipv4UpperLayerValid(buffer, l3, l4, size);
    }

    private int extractTcp(final int l3, final int l4, final int size)
    {
        if (size < TCP_HEADER_LENGTH)
        {
            return EngineCounter.INVALID_L4_HEADER.id();
        }
        final int control = buffer.getShort(l4 + 12, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        final int headerLength = (control >>> 12) * 4;
        if (headerLength < TCP_HEADER_LENGTH || headerLength > size)
        {
            return EngineCounter.INVALID_L4_HEADER.id();
        }
        if (!upperLayerChecksumValid(IPPROTO_TCP, l3, l4, size))
        {
            return EngineCounter.INVALID_L4_CHECKSUM.id();
        }
        if (!ports(l4))
        {
            return EngineCounter.INVALID_L4_HEADER.id();
        }
        tcpFields(buffer, l4, control, size - headerLength, out);
        return OK;
    }

    /**
     * The TCP fields of the segment at {@code l4} of {@code frame} ({@code control}: its data-offset and flags
     * word) into {@code to}: sequence, acknowledgement, window, flags, payload length, window-scale option.
     */
    private void tcpFields(final DirectBuffer frame, final int l4, final int control, final int payloadLength,
        final CtRequest to)
    {
        final int flags = control & 0x0FFF;
        buffer = frame;
        to.tcp(
            frame.getInt(l4 + 4, ByteOrder.BIG_ENDIAN),
            frame.getInt(l4 + 8, ByteOrder.BIG_ENDIAN),
            frame.getShort(l4 + 14, ByteOrder.BIG_ENDIAN) & 0xFFFF,
            flags,
            payloadLength,
            (flags & TCP_SYN) != 0 ? windowScale(l4, (control >>> 12) * 4) : 0);
    }

    private int extractUdp(final int l3, final int l4, final int size)
    {
        if (size < UDP_HEADER_LENGTH)
        {
            return EngineCounter.INVALID_L4_HEADER.id();
        }
        final int udpLength = buffer.getShort(l4 + 4, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        if (udpLength < UDP_HEADER_LENGTH || udpLength > size)
        {
            return EngineCounter.INVALID_L4_HEADER.id();
        }
        final int checksum = buffer.getShort(l4 + 6, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        if (!(checksum == 0 && !ipv6) && !upperLayerChecksumValid(IPPROTO_UDP, l3, l4, size))
        {
            return EngineCounter.INVALID_L4_CHECKSUM.id();
        }
        return ports(l4) ? OK : EngineCounter.INVALID_L4_HEADER.id();
    }

    private int extractSctp(final int l4, final int size)
    {
        if (!sctpLengthValid(l4, size))
        {
            return EngineCounter.INVALID_L4_HEADER.id();
        }
        if (!Crc32c.sctpValid(buffer, l4, size))
        {
            return EngineCounter.INVALID_L4_CHECKSUM.id();
        }
        return ports(l4) ? OK : EngineCounter.INVALID_L4_HEADER.id();
    }

    /** Chunks must tile the packet exactly, each at least 4 bytes, padded to 4 (RFC 4960). */
    private boolean sctpLengthValid(final int l4, final int size)
    {
        if (size < SCTP_HEADER_LENGTH)
        {
            return false;
        }
        int next = SCTP_HEADER_LENGTH;
        while (next < size)
        {
            if (next + 4 > size)
            {
                return false;
            }
            final int chunkLength = buffer.getShort(l4 + next + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF;
            if (chunkLength < 4)
            {
                return false;
            }
            next += (chunkLength + 3) & ~3;
        }
        return next == size;
    }

    private int extractIcmp4(final int l3, final int l4, final int size)
    {
        if (Checksums.checksum(buffer, l4, size) != 0)
        {
            return EngineCounter.INVALID_L4_CHECKSUM.id();
        }
        if (size < ICMP_HEADER_LENGTH)
        {
            return EngineCounter.INVALID_L4_HEADER.id();
        }
        final int type = buffer.getByte(l4) & 0xFF;
        final int code = buffer.getByte(l4 + 1) & 0xFF;
        final int reverse = reverseIcmp4Type(type);
        if (reverse >= 0)
        {
            if (code != 0)
            {
                return EngineCounter.INVALID_ICMP.id();
            }
            icmpEndpoints(buffer.getShort(l4 + 4, ByteOrder.BIG_ENDIAN) & 0xFFFF, type, reverse);
            return OK;
        }
        if (type != ICMP4_DST_UNREACH && type != ICMP4_TIME_EXCEEDED && type != ICMP4_PARAM_PROB
            && type != ICMP4_SOURCEQUENCH && type != ICMP4_REDIRECT)
        {
            return EngineCounter.INVALID_ICMP.id();
        }
        final int tail = l4 + size;
        final int innerL3 = l4 + ICMP_HEADER_LENGTH;
        final int innerSize = tail - innerL3;
        if (innerSize < IPV4_HEADER_LENGTH)
        {
            return EngineCounter.INVALID_ICMP.id();
        }
        final int innerHeaderLength = (buffer.getByte(innerL3) & 0x0F) * 4;
        if (innerHeaderLength < IPV4_HEADER_LENGTH || innerSize < innerHeaderLength
            || (buffer.getShort(innerL3 + 6, ByteOrder.BIG_ENDIAN) & IP_FRAG_OFF_MASK) != 0)
        {
            return EngineCounter.INVALID_ICMP.id();
        }
        final long innerSrc = buffer.getInt(innerL3 + 12, ByteOrder.BIG_ENDIAN) & 0xFFFF_FFFFL;
        final long innerDst = buffer.getInt(innerL3 + 16, ByteOrder.BIG_ENDIAN) & 0xFFFF_FFFFL;
        if (innerSrc != out.dstLo())
        {
            return EngineCounter.INVALID_ICMP.id();
        }
        final int innerProto = buffer.getByte(innerL3 + 9) & 0xFF;
        out.nwProto(innerProto).src(0, innerSrc).dst(0, innerDst);
        final int innerL4 = innerL3 + innerHeaderLength;
        if (!extractQuotedL4(innerProto, innerL4, tail - innerL4, ICMP_ERROR_DATA_L4_LENGTH))
        {
            return EngineCounter.INVALID_ICMP.id();
        }
        reverseKey();
        return OK;
    }

    private int extractIcmp6(final int l3, final int l4, final int size)
    {
        if (!Checksums.ipv6UpperLayerValid(buffer, l3, IPPROTO_ICMPV6, l4, size))
        {
            return EngineCounter.INVALID_L4_CHECKSUM.id();
        }
        if (size < 8)
        {
            return EngineCounter.INVALID_L4_HEADER.id();
        }
        final int type = buffer.getByte(l4) & 0xFF;
        final int code = buffer.getByte(l4 + 1) & 0xFF;
        final int reverse = reverseIcmp6Type(type);
        if (reverse >= 0)
        {
            if (code != 0)
            {
                return EngineCounter.INVALID_ICMP.id();
            }
            icmpEndpoints(buffer.getShort(l4 + 4, ByteOrder.BIG_ENDIAN) & 0xFFFF, type, reverse);
            return OK;
        }
        if (type != ICMP6_DST_UNREACH && type != ICMP6_PACKET_TOO_BIG && type != ICMP6_TIME_EXCEEDED
            && type != ICMP6_PARAM_PROB)
        {
            return EngineCounter.INVALID_ICMP.id();
        }
        final int tail = l4 + size;
        final int innerL3 = l4 + 8;
        final int innerSize = tail - innerL3;
        if (innerSize < IPV6_HEADER_LENGTH
            || !extHeaders.parse(buffer, innerL3 + IPV6_HEADER_LENGTH, innerSize - IPV6_HEADER_LENGTH,
                buffer.getByte(innerL3 + 6) & 0xFF)
            || extHeaders.nwFrag() != 0)
        {
            return EngineCounter.INVALID_ICMP.id();
        }
        final long srcHi = buffer.getLong(innerL3 + 8, ByteOrder.BIG_ENDIAN);
        final long srcLo = buffer.getLong(innerL3 + 16, ByteOrder.BIG_ENDIAN);
        if (srcHi != out.dstHi() || srcLo != out.dstLo())
        {
            return EngineCounter.INVALID_ICMP.id();
        }
        final int innerProto = extHeaders.nwProto();
        out.nwProto(innerProto).src(srcHi, srcLo)
            .dst(buffer.getLong(innerL3 + 24, ByteOrder.BIG_ENDIAN), buffer.getLong(innerL3 + 32, ByteOrder.BIG_ENDIAN));
        final int innerL4 = extHeaders.offset();
        if (!extractQuotedL4(innerProto, innerL4, tail - innerL4, 0))
        {
            return EngineCounter.INVALID_ICMP.id();
        }
        reverseKey();
        return OK;
    }

    /**
     * The quoted transport header of an ICMP error: no checksum or length checks, only the bytes needed for the
     * key ({@code minLength} when non-zero, as ICMPv4 errors need only 8 bytes of it), non-zero ports, and
     * informational types for a quoted ICMP packet (a quoted error is never followed).
     */
    private boolean extractQuotedL4(final int proto, final int l4, final int size, final int minLength)
    {
        switch (proto)
        {
            case IPPROTO_TCP:
                return size >= (minLength != 0 ? minLength : TCP_HEADER_LENGTH) && ports(l4);
            case IPPROTO_UDP:
                return size >= (minLength != 0 ? minLength : UDP_HEADER_LENGTH) && ports(l4);
            case IPPROTO_SCTP:
                return size >= (minLength != 0 ? minLength : SCTP_HEADER_LENGTH) && ports(l4);
            case IPPROTO_ICMP:
                if (ipv6)
                {
                    return true;
                }
                return size >= (minLength != 0 ? minLength : ICMP_HEADER_LENGTH) && quotedIcmp(l4, false);
            case IPPROTO_ICMPV6:
                if (!ipv6)
                {
                    return true;
                }
                return size >= 8 && quotedIcmp(l4, true);
            default:
                return true;
        }
    }

    private boolean quotedIcmp(final int l4, final boolean v6)
    {
        final int type = buffer.getByte(l4) & 0xFF;
        final int reverse = v6 ? reverseIcmp6Type(type) : reverseIcmp4Type(type);
        if (reverse < 0 || buffer.getByte(l4 + 1) != 0)
        {
            return false;
        }
        icmpEndpoints(buffer.getShort(l4 + 4, ByteOrder.BIG_ENDIAN) & 0xFFFF, type, reverse);
        return true;
    }

    private boolean ports(final int l4)
    {
        final int ports = buffer.getInt(l4, ByteOrder.BIG_ENDIAN);
        final int srcL4 = ports & 0xFFFF_0000;
        final int dstL4 = ports << 16;
        out.srcL4(srcL4).dstL4(dstL4);
        return srcL4 != 0 && dstL4 != 0;
    }

    private void icmpEndpoints(final int id, final int type, final int reverseType)
    {
        out.srcL4(id << 16 | type << 8).dstL4(id << 16 | reverseType << 8);
    }

    private void reverseKey()
    {
        final long srcHi = out.srcHi();
        final long srcLo = out.srcLo();
        final int srcL4 = out.srcL4();
        out.src(out.dstHi(), out.dstLo()).dst(srcHi, srcLo).srcL4(out.dstL4()).dstL4(srcL4);
        out.flags(out.flags() | CtRequest.FLAG_ICMP_RELATED);
    }

    /** Open vSwitch's {@code tcp_get_wscale}: the window-scale option, capped at 14, flagged with 0x80. */
    private int windowScale(final int l4, final int headerLength)
    {
        int length = headerLength - TCP_HEADER_LENGTH;
        int p = l4 + TCP_HEADER_LENGTH;
        int wscale = 0;
        while (length >= 3)
        {
            final int kind = buffer.getByte(p) & 0xFF;
            if (kind == TCPOPT_EOL)
            {
                return wscale;
            }
            if (kind == TCPOPT_NOP)
            {
                p++;
                length--;
                continue;
            }
            if (kind == TCPOPT_WINDOW)
            {
                wscale = Math.min(buffer.getByte(p + 2) & 0xFF, TCP_MAX_WSCALE) | WSCALE_FLAG;
            }
            int optionLength = buffer.getByte(p + 1) & 0xFF;
            if (optionLength < 2)
            {
                optionLength = 2;
            }
            length -= optionLength;
            p += optionLength;
        }
        return wscale;
    }
}
