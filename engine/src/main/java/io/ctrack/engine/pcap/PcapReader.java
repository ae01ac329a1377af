package io.ctrack.engine.pcap;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reads a classic libpcap file through a read-only memory map, without copying frames: {@link #next()} moves to
 * the next record and {@link #buffer()}, {@link #frameOffset()} and {@link #frameLength()} describe its bytes.
 * Accepts microsecond ({@code a1b2c3d4}) and nanosecond ({@code a1b23c4d}) magics in either byte order, and only
 * the Ethernet link type (1). Not thread-safe.
 */
public final class PcapReader implements AutoCloseable
{
    public static final int LINKTYPE_ETHERNET = 1;
    private static final int GLOBAL_HEADER = 24;
    private static final int RECORD_HEADER = 16;
    private static final int MAGIC_MICROS = 0xA1B2_C3D4;
    private static final int MAGIC_NANOS = 0xA1B2_3C4D;
    private static final int MAGIC_PCAPNG = 0x0A0D_0D0A;

    private final String name;
    private final FileChannel channel;
    private final UnsafeBuffer buffer;
    private final ByteOrder order;
    private final boolean nanos;
    private final int snapLength;
    private final int size;
    private int position = GLOBAL_HEADER;
    private int frameOffset;
    private int frameLength;
    private int originalLength;
    private long timestampNanos;
    private long index;

    private PcapReader(final String name, final FileChannel channel, final UnsafeBuffer buffer, final ByteOrder order,
        final boolean nanos, final int snapLength)
    {
        this.name = name;
        this.channel = channel;
        this.buffer = buffer;
        this.order = order;
        this.nanos = nanos;
        this.snapLength = snapLength;
        this.size = buffer.capacity();
    }

    /**
     * Opens and maps {@code path}, checking the global header.
     *
     * @throws PcapFormatException if the file is not a classic pcap of Ethernet frames.
     * @throws IOException         if the file cannot be read.
     */
    public static PcapReader open(final Path path) throws IOException, PcapFormatException
    {
        final String name = path.toString();
        final FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
        try
        {
            final long length = channel.size();
            if (length > Integer.MAX_VALUE)
            {
                throw new PcapFormatException(name + ": file too large (" + length + " bytes, at most 2 GiB)");
            }
            if (length < GLOBAL_HEADER)
            {
                throw new PcapFormatException(name + ": not a pcap file (" + length + " bytes, shorter than a pcap header)");
            }
            final MappedByteBuffer map = channel.map(FileChannel.MapMode.READ_ONLY, 0, length);
            final UnsafeBuffer buffer = new UnsafeBuffer(map);
            final int magic = buffer.getInt(0, ByteOrder.BIG_ENDIAN);
            final int magicLe = buffer.getInt(0, ByteOrder.LITTLE_ENDIAN);
            final ByteOrder order;
            final boolean nanos;
            if (magic == MAGIC_MICROS || magic == MAGIC_NANOS)
            {
                order = ByteOrder.BIG_ENDIAN;
                nanos = magic == MAGIC_NANOS;
            }
            else if (magicLe == MAGIC_MICROS || magicLe == MAGIC_NANOS)
            {
                order = ByteOrder.LITTLE_ENDIAN;
                nanos = magicLe == MAGIC_NANOS;
            }
            else if (magic == MAGIC_PCAPNG)
            {
                throw new PcapFormatException(name + ": pcapng files are not supported; convert it with "
                    + "'editcap -F pcap IN OUT' or 'tshark -r IN -F pcap -w OUT'");
            }
            else
            {
                throw new PcapFormatException(name + ": not a pcap file (magic number 0x"
                    + Integer.toHexString(magic) + ")");
            }
            final int linkType = buffer.getInt(20, order) & 0x0FFF_FFFF;
            if (linkType != LINKTYPE_ETHERNET)
            {
                throw new PcapFormatException(name + ": link type " + linkType + " is not supported (only Ethernet, 1)");
            }
            return new PcapReader(name, channel, buffer, order, nanos, buffer.getInt(16, order));
        }
        catch (final PcapFormatException | IOException | RuntimeException ex)
        {
            channel.close();
            throw ex;
        }
    }

    /**
     * Moves to the next record.
     *
     * @return false at the end of the file.
     * @throws PcapFormatException if the file ends inside a record.
     */
    public boolean next() throws PcapFormatException
    {
        if (position == size)
        {
            return false;
        }
        if (size - position < RECORD_HEADER)
        {
            throw new PcapFormatException(name + ": truncated: record " + (index + 1) + " header is cut off at byte "
                + position + " (" + (size - position) + " of 16 bytes)");
        }
        final long seconds = buffer.getInt(position, order) & 0xFFFF_FFFFL;
        final long fraction = buffer.getInt(position + 4, order) & 0xFFFF_FFFFL;
        final int included = buffer.getInt(position + 8, order);
        final int original = buffer.getInt(position + 12, order);
        if (included < 0 || included > Math.max(snapLength, 262_144))
        {
            throw new PcapFormatException(name + ": corrupt record " + (index + 1) + " at byte " + position
                + ": captured length " + Integer.toUnsignedString(included));
        }
        if (size - position - RECORD_HEADER < included)
        {
            throw new PcapFormatException(name + ": truncated: record " + (index + 1) + " needs " + included
                + " bytes, the file has " + (size - position - RECORD_HEADER));
        }
        frameOffset = position + RECORD_HEADER;
        frameLength = included;
        originalLength = original;
        timestampNanos = seconds * 1_000_000_000L + (nanos ? fraction : fraction * 1000);
        position = frameOffset + included;
        index++;
        return true;
    }

    /** Walks every record once to find truncation or corruption before any is used, then rewinds. */
    public long validate() throws PcapFormatException
    {
        long count = 0;
        while (next())
        {
            count++;
        }
        rewind();
        return count;
    }

    public void rewind()
    {
        position = GLOBAL_HEADER;
        index = 0;
    }

    public DirectBuffer buffer()
    {
        return buffer;
    }

    public int frameOffset()
    {
        return frameOffset;
    }

    public int frameLength()
    {
        return frameLength;
    }

    public int originalLength()
    {
        return originalLength;
    }

    public long timestampNanos()
    {
        return timestampNanos;
    }

    public boolean isNanosecond()
    {
        return nanos;
    }

    /** 1-based number of the current record. */
    public long recordNumber()
    {
        return index;
    }

    public String name()
    {
        return name;
    }

    @Override
    public void close() throws IOException
    {
        channel.close();
    }
}
