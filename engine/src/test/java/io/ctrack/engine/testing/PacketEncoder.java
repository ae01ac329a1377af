package io.ctrack.engine.testing;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;

import static io.ctrack.engine.testing.TestPackets.internetChecksum;
import static io.ctrack.engine.testing.TestPackets.put16;
import static io.ctrack.engine.testing.TestPackets.put32;
import static io.ctrack.engine.testing.TestPackets.putShort;
import static io.ctrack.engine.testing.TestPackets.sctpChecksum;

/** Turns a {@link PacketBuilder}'s settings into IP datagram bytes: headers, lengths and checksums. */
final class PacketEncoder
{
    private PacketEncoder()
    {
    }

    /** The IP datagram (IPv4 or IPv6 header, extension headers, transport) the builder describes. */
    static byte[] datagram(final PacketBuilder b)
    {
        final byte[] transport = transport(b);
        return b.v6 ? ipv6Datagram(b, transport) : ipv4Datagram(b, transport);
    }

    private static byte[] ipv4Datagram(final PacketBuilder b, final byte[] transport)
    {
        final int headerLength = 20 + b.ipOptions.length;
        final byte[] ip = new byte[headerLength + transport.length];
        final int version = b.ipVersion >= 0 ? b.ipVersion : 4;
        ip[0] = (byte)((version << 4) | ((b.ihl >= 0 ? b.ihl : headerLength / 4) & 0x0F));
        putShort(ip, 2, b.totalLength >= 0 ? b.totalLength : ip.length);
        putShort(ip, 4, b.ipId);
        putShort(ip, 6, (b.dontFragment ? 0x4000 : 0) | (b.moreFragments ? 0x2000 : 0) | (b.fragmentOffset / 8));
        ip[8] = (byte)b.ttl;
        ip[9] = (byte)(b.protocolOverride >= 0 ? b.protocolOverride : b.proto);
        System.arraycopy(b.src, 0, ip, 12, 4);
        System.arraycopy(b.dst, 0, ip, 16, 4);
        System.arraycopy(b.ipOptions, 0, ip, 20, b.ipOptions.length);
        System.arraycopy(transport, 0, ip, headerLength, transport.length);
        fillTransportChecksum(b, ip, headerLength, transport.length, ipv4Pseudo(b, transport.length));
        int checksum = b.ipChecksum >= 0 ? b.ipChecksum : internetChecksum(ip, 0, headerLength, 0);
        if (b.badIpChecksum)
        {
            checksum ^= 0x00FF;
        }
        putShort(ip, 10, checksum);
        return ip;
    }

    private static byte[] ipv6Datagram(final PacketBuilder b, final byte[] transport)
    {
        int extLength = 0;
        for (final byte[] h : b.extHeaders)
        {
            extLength += h.length;
        }
        final byte[] ip = new byte[40 + extLength + transport.length];
        ip[0] = (byte)((b.ipVersion >= 0 ? b.ipVersion : 6) << 4);
        putShort(ip, 4, b.payloadLength >= 0 ? b.payloadLength : extLength + transport.length);
        final int first = b.extHeaders.isEmpty() ? b.proto : b.extTypes.get(0)[0];
        ip[6] = (byte)(b.nextHeader >= 0 ? b.nextHeader : first);
        ip[7] = (byte)b.ttl;
        System.arraycopy(b.src, 0, ip, 8, 16);
        System.arraycopy(b.dst, 0, ip, 24, 16);
        int p = 40;
        for (int i = 0; i < b.extHeaders.size(); i++)
        {
            final byte[] h = b.extHeaders.get(i).clone();
            h[0] = (byte)(i + 1 < b.extHeaders.size() ? b.extTypes.get(i + 1)[0] : b.proto);
            System.arraycopy(h, 0, ip, p, h.length);
            p += h.length;
        }
        System.arraycopy(transport, 0, ip, p, transport.length);
        final long pseudo = sum(Arrays.copyOfRange(ip, 8, 40)) + b.proto + transport.length;
        fillTransportChecksum(b, ip, p, transport.length, pseudo);
        return ip;
    }

    private static long ipv4Pseudo(final PacketBuilder b, final int transportLength)
    {
        return sum(b.src) + sum(b.dst) + b.proto + transportLength;
    }

    private static byte[] transport(final PacketBuilder b)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        switch (b.l4)
        {
            case TCP:
            {
                final byte[] options = tcpOptionBytes(b);
                put16(out, b.srcPort);
                put16(out, b.dstPort);
                put32(out, (int)b.seq);
                put32(out, (int)b.ack);
                final int offsetWords = b.dataOffset >= 0 ? b.dataOffset : (20 + options.length) / 4;
                put16(out, (offsetWords << 12) | (b.tcpFlags & 0x0FFF));
                put16(out, b.window);
                put16(out, 0);
                put16(out, 0);
                out.writeBytes(options);
                out.writeBytes(b.payload);
                break;
            }
            case UDP:
                put16(out, b.srcPort);
                put16(out, b.dstPort);
                put16(out, b.udpLength >= 0 ? b.udpLength : 8 + b.payload.length);
                put16(out, 0);
                out.writeBytes(b.payload);
                break;
            case ICMP:
                out.write(b.icmpType);
                out.write(b.icmpCode);
                put16(out, 0);
                put32(out, b.icmpRest);
                out.writeBytes(b.payload);
                break;
            case SCTP:
                put16(out, b.srcPort);
                put16(out, b.dstPort);
                put32(out, b.sctpTag);
                put32(out, 0);
                out.writeBytes(b.sctpChunks.toByteArray());
                out.writeBytes(b.payload);
                break;
            case RAW:
                out.writeBytes(b.payload);
                break;
            default:
                break;
        }
        return out.toByteArray();
    }

    private static byte[] tcpOptionBytes(final PacketBuilder b)
    {
        if (b.tcpOptions != null)
        {
            return b.tcpOptions;
        }
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (b.mss >= 0)
        {
            out.write(2);
            out.write(4);
            put16(out, b.mss);
        }
        if (b.wscale >= 0)
        {
            out.write(1);
            out.write(3);
            out.write(3);
            out.write(b.wscale);
        }
        return out.toByteArray();
    }

    /** Writes the transport checksum into {@code ip} at the transport header at {@code at}. */
    private static void fillTransportChecksum(
        final PacketBuilder b, final byte[] ip, final int at, final int length, final long pseudo)
    {
        final int field;
        final long computed;
        switch (b.l4)
        {
            case TCP:
                field = at + 16;
                computed = length >= 18 ? internetChecksum(ip, at, length, pseudo) : -1;
                break;
            case UDP:
                field = at + 6;
                computed = b.udpChecksum >= 0 ? b.udpChecksum : internetChecksum(ip, at, length, pseudo);
                break;
            case ICMP:
                field = at + 2;
                computed = internetChecksum(ip, at, length, b.v6 ? pseudo : 0);
                break;
            case SCTP:
            {
                long crc = b.l4Checksum >= 0 ? b.l4Checksum : sctpChecksum(ip, at, length) & 0xFFFF_FFFFL;
                if (b.badL4Checksum)
                {
                    crc ^= 0x00FF;
                }
                // SCTP stores its CRC32c least significant byte first.
                ip[at + 8] = (byte)crc;
                ip[at + 9] = (byte)(crc >>> 8);
                ip[at + 10] = (byte)(crc >>> 16);
                ip[at + 11] = (byte)(crc >>> 24);
                return;
            }
            default:
                return;
        }
        if (field + 2 > at + length)
        {
            return;
        }
        long value = b.l4Checksum >= 0 ? b.l4Checksum : computed;
        if (b.badL4Checksum)
        {
            value ^= 0x00FF;
        }
        putShort(ip, field, (int)value);
    }

    private static long sum(final byte[] bytes)
    {
        long s = 0;
        for (int i = 0; i + 1 < bytes.length; i += 2)
        {
            s += ((bytes[i] & 0xFF) << 8) | (bytes[i + 1] & 0xFF);
        }
        return s;
    }
}
