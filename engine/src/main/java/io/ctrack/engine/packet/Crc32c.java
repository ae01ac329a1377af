package io.ctrack.engine.packet;

import org.agrona.DirectBuffer;

/**
 * CRC32c (Castagnoli) as SCTP uses it (RFC 3309), table-driven, over buffer ranges without allocation.
 */
public final class Crc32c
{
    private static final int[] TABLE = new int[256];

    static
    {
        for (int n = 0; n < 256; n++)
        {
            int c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0x82F6_3B78 ^ (c >>> 1) : c >>> 1;
            }
            TABLE[n] = c;
        }
    }

    private Crc32c()
    {
    }

    /** Continues a CRC (start with {@code 0xFFFFFFFF}) over a range. */
    public static int update(final int crc, final DirectBuffer buffer, final int offset, final int length)
    {
        int c = crc;
        for (int i = offset, end = offset + length; i < end; i++)
        {
            c = TABLE[(c ^ buffer.getByte(i)) & 0xFF] ^ (c >>> 8);
        }
        return c;
    }

    /** Continues a CRC over {@code count} zero bytes. */
    public static int updateZeros(final int crc, final int count)
    {
        int c = crc;
        for (int i = 0; i < count; i++)
        {
            c = TABLE[c & 0xFF] ^ (c >>> 8);
        }
        return c;
    }

    /**
     * Verifies the SCTP checksum of the packet at {@code offset}: the CRC32c of the whole packet with the
     * checksum field (bytes 8-11) taken as zero, compared with the field read in SCTP's little-endian order.
     */
    public static boolean sctpValid(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length < Protocols.SCTP_HEADER_LENGTH)
        {
            return false;
        }
        int crc = update(0xFFFF_FFFF, buffer, offset, 8);
        crc = updateZeros(crc, 4);
        crc = update(crc, buffer, offset + 12, length - 12);
        crc = ~crc;
        final int received = (buffer.getByte(offset + 8) & 0xFF)
            | (buffer.getByte(offset + 9) & 0xFF) << 8
            | (buffer.getByte(offset + 10) & 0xFF) << 16
            | (buffer.getByte(offset + 11) & 0xFF) << 24;
        return crc == received;
    }
}
