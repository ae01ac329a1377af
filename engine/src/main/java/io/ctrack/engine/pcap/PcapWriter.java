package io.ctrack.engine.pcap;

import org.agrona.DirectBuffer;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes a classic libpcap file (little-endian, microsecond or nanosecond timestamps, Ethernet link type).
 */
public final class PcapWriter implements AutoCloseable
{
    private final OutputStream out;
    private final boolean nanos;
    private final byte[] header = new byte[16];
    private byte[] frame = new byte[2048];

    public PcapWriter(final Path path, final boolean nanos) throws IOException
    {
        this.out = new BufferedOutputStream(Files.newOutputStream(path), 1 << 16);
        this.nanos = nanos;
        final byte[] global = new byte[24];
        putInt(global, 0, nanos ? 0xA1B2_3C4D : 0xA1B2_C3D4);
        putShort(global, 4, 2);
        putShort(global, 6, 4);
        putInt(global, 16, 262_144);
        putInt(global, 20, PcapReader.LINKTYPE_ETHERNET);
        out.write(global);
    }

    /** Appends one frame captured at {@code timestampNanos}. */
    public void write(final long timestampNanos, final DirectBuffer buffer, final int offset, final int length,
        final int originalLength) throws IOException
    {
        putInt(header, 0, (int)(timestampNanos / 1_000_000_000L));
        final long fraction = timestampNanos % 1_000_000_000L;
        putInt(header, 4, (int)(nanos ? fraction : fraction / 1000));
        putInt(header, 8, length);
        putInt(header, 12, originalLength);
        out.write(header);
        if (frame.length < length)
        {
            frame = new byte[length];
        }
        buffer.getBytes(offset, frame, 0, length);
        out.write(frame, 0, length);
    }

    private static void putInt(final byte[] b, final int at, final int v)
    {
        b[at] = (byte)v;
        b[at + 1] = (byte)(v >>> 8);
        b[at + 2] = (byte)(v >>> 16);
        b[at + 3] = (byte)(v >>> 24);
    }

    private static void putShort(final byte[] b, final int at, final int v)
    {
        b[at] = (byte)v;
        b[at + 1] = (byte)(v >>> 8);
    }

    @Override
    public void close() throws IOException
    {
        out.close();
    }
}
