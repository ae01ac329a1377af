package io.ctrack.app.bench;

import io.ctrack.engine.FrameBatch;
import io.ctrack.engine.packet.Checksums;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;

/**
 * The packet of Open vSwitch's {@code tests/test-conntrack.c} ({@code payload[]}: Ethernet, IPv4
 * 10.1.1.1 -> 10.1.1.2, UDP with checksum 0), with the ports a workload sets.
 */
final class OvsPackets
{
    static final String PAYLOAD_HEX = "50540000000a50540000000908004500001c0000000000"
        + "11a4cd0a0101010a0101020001000200080000";
    static final int LENGTH = PAYLOAD_HEX.length() / 2;
    /** Bytes reserved per frame in packet arrays. */
    static final int STRIDE = 64;
    private static final byte[] TEMPLATE = new byte[LENGTH];

    static
    {
        for (int i = 0; i < LENGTH; i++)
        {
            TEMPLATE[i] = (byte)Integer.parseInt(PAYLOAD_HEX.substring(2 * i, 2 * i + 2), 16);
        }
    }

    private OvsPackets()
    {
    }

    /** Writes the packet with {@code srcPort} -> {@code dstPort} at {@code offset}. */
    static void udp(final UnsafeBuffer buffer, final int offset, final int srcPort, final int dstPort)
    {
        buffer.putBytes(offset, TEMPLATE);
        buffer.putShort(offset + 34, (short)srcPort, ByteOrder.BIG_ENDIAN);
        buffer.putShort(offset + 36, (short)dstPort, ByteOrder.BIG_ENDIAN);
    }

    /** {@link #udp} with the source address replaced by {@code srcAddr} (the IPv4 checksum is recomputed). */
    static void udp(final UnsafeBuffer buffer, final int offset, final int srcAddr, final int srcPort, final int dstPort)
    {
        udp(buffer, offset, srcPort, dstPort);
        buffer.putInt(offset + 26, srcAddr, ByteOrder.BIG_ENDIAN);
        buffer.putShort(offset + 24, (short)0, ByteOrder.BIG_ENDIAN);
        buffer.putShort(offset + 24, (short)Checksums.checksum(buffer, offset + 14, 20), ByteOrder.BIG_ENDIAN);
    }

    /** Open vSwitch's benchmark-zones ports for connection {@code i}: sport i >> 16, dport i & 0xffff, 0 -> 65535. */
    static void zones(final UnsafeBuffer buffer, final int offset, final int i)
    {
        int srcPort = (i >>> 16) & 0xFFFF;
        int dstPort = i & 0xFFFF;
        udp(buffer, offset, srcPort == 0 ? 0xFFFF : srcPort, dstPort == 0 ? 0xFFFF : dstPort);
    }

    /** A distinct connection per {@code i} (up to 2^31): source 11.x.y.z, ports from i. */
    static void distinct(final UnsafeBuffer buffer, final int offset, final int i)
    {
        udp(buffer, offset, 0x0B00_0000 | (i >>> 15), 1 + (i & 0x7FFF), 2);
    }

    /** {@code flows} established-traffic UDP packets (flow {@code i} from 12.0.0.i, port 1000 + i, to port 53). */
    static UnsafeBuffer steadyFlows(final int flows)
    {
        final UnsafeBuffer packets = new UnsafeBuffer(new byte[flows * STRIDE]);
        for (int i = 0; i < flows; i++)
        {
            udp(packets, i * STRIDE, 0x0C00_0000 | i, 1000 + (i & 0x7FFF), 53);
        }
        return packets;
    }

    /** Adds {@code count} of the {@code flows} packets to {@code frames} round-robin from {@code next}; the next one. */
    static int addRoundRobin(final FrameBatch frames, final UnsafeBuffer packets, final int flows, final int next,
        final int count)
    {
        int n = next;
        for (int j = 0; j < count; j++)
        {
            frames.add(packets, n * STRIDE, LENGTH);
            n = n + 1 == flows ? 0 : n + 1;
        }
        return n;
    }
}
