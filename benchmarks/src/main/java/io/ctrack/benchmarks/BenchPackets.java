package io.ctrack.benchmarks;

import io.ctrack.engine.packet.Checksums;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;

/**
 * Frames for benchmarks: Open vSwitch's {@code test-conntrack} packet (Ethernet, IPv4 10.1.1.1 -> 10.1.1.2,
 * UDP with checksum 0), with the ports a benchmark asks for.
 */
final class BenchPackets
{
    /** The 42-byte frame of Open vSwitch's {@code tests/test-conntrack.c} ({@code payload[]}). */
    static final String OVS_PAYLOAD_HEX = "50540000000a50540000000908004500001c0000000000"
        + "11a4cd0a0101010a0101020001000200080000";
    static final int FRAME_LENGTH = OVS_PAYLOAD_HEX.length() / 2;
    private static final int UDP = 14 + 20;

    private BenchPackets()
    {
    }

    /** Writes the frame with {@code srcPort} -> {@code dstPort} at {@code offset}; returns its length. */
    static int udp(final UnsafeBuffer buffer, final int offset, final int srcPort, final int dstPort)
    {
        for (int i = 0; i < FRAME_LENGTH; i++)
        {
            buffer.putByte(offset + i, (byte)Integer.parseInt(OVS_PAYLOAD_HEX.substring(2 * i, 2 * i + 2), 16));
        }
        buffer.putShort(offset + UDP, (short)srcPort, ByteOrder.BIG_ENDIAN);
        buffer.putShort(offset + UDP + 2, (short)dstPort, ByteOrder.BIG_ENDIAN);
        return FRAME_LENGTH;
    }

    /** Like {@link #udp} with distinct source addresses too (10.(i>>16).(i>>8).i), for millions of connections. */
    static int udpDistinct(final UnsafeBuffer buffer, final int offset, final int i)
    {
        udp(buffer, offset, 1 + (i & 0x7FFF), 2);
        buffer.putInt(offset + 14 + 12, 0x0B00_0000 | (i >>> 15), ByteOrder.BIG_ENDIAN);
        buffer.putShort(offset + 14 + 10, (short)0, ByteOrder.BIG_ENDIAN);
        buffer.putShort(offset + 14 + 10, (short)Checksums.checksum(buffer, offset + 14, 20), ByteOrder.BIG_ENDIAN);
        return FRAME_LENGTH;
    }
}
