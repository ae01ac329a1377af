package io.ctrack.engine.testing;

import io.ctrack.engine.packet.FrameParser;
import io.ctrack.engine.packet.ParsedFrame;

import java.util.Arrays;
import java.util.Random;

/** Mutations of valid frames for property tests of the packet path. */
public final class FrameMutations
{
    private FrameMutations()
    {
    }

    /**
     * Makes the IPv4 header checksum and the transport checksum (TCP, UDP, ICMP, ICMPv6, SCTP) of a mutated frame
     * right again where its layers can be found, so that mutations get past the checksum checks and reach the
     * length walks, option parsing and ICMP quoted-packet parsing behind them.
     */
    public static void fixChecksums(final byte[] frame)
    {
        final ParsedFrame parsed = new ParsedFrame();
        new FrameParser().parse(TestPackets.buffer(frame), 0, frame.length, parsed);
        final int l3 = parsed.l3Offset();
        final int l4 = parsed.l4Offset();
        if (l3 == ParsedFrame.NONE || l4 == ParsedFrame.NONE)
        {
            return;
        }
        final int l4Length = parsed.l4Size();
        final boolean v6 = parsed.dlType() == 0x86DD;
        if (!v6)
        {
            frame[l3 + 10] = 0;
            frame[l3 + 11] = 0;
            final int sum = TestPackets.internetChecksum(frame, l3, l4 - l3, 0);
            frame[l3 + 10] = (byte)(sum >>> 8);
            frame[l3 + 11] = (byte)sum;
        }
        final int proto = parsed.nwProto();
        final int field = proto == 6 ? 16 : proto == 17 ? 6 : proto == 1 || proto == 58 ? 2 : -1;
        if (proto == 132 && l4Length >= 12)
        {
            final int crc = TestPackets.sctpChecksum(frame, l4, l4Length);
            frame[l4 + 8] = (byte)crc;
            frame[l4 + 9] = (byte)(crc >>> 8);
            frame[l4 + 10] = (byte)(crc >>> 16);
            frame[l4 + 11] = (byte)(crc >>> 24);
            return;
        }
        if (field < 0 || l4Length < field + 2)
        {
            return;
        }
        long pseudo = 0;
        if (v6)
        {
            for (int i = l3 + 8; i < l3 + 40; i += 2)
            {
                pseudo += ((frame[i] & 0xFF) << 8) | (frame[i + 1] & 0xFF);
            }
            pseudo += proto + l4Length;
        }
        else if (proto != 1)
        {
            for (int i = l3 + 12; i < l3 + 20; i += 2)
            {
                pseudo += ((frame[i] & 0xFF) << 8) | (frame[i + 1] & 0xFF);
            }
            pseudo += proto + l4Length;
        }
        frame[l4 + field] = 0;
        frame[l4 + field + 1] = 0;
        final int sum = TestPackets.internetChecksum(frame, l4, l4Length, pseudo);
        frame[l4 + field] = (byte)(sum >>> 8);
        frame[l4 + field + 1] = (byte)sum;
    }

    /**
     * A copy of {@code seed} with 1-6 edits: random bytes anywhere, length-like values (0xFF or small) in the
     * first 60 bytes behind the Ethernet header, a cut, or zero bytes appended.
     */
    public static byte[] mutate(final byte[] seed, final Random random)
    {
        byte[] frame = seed.clone();
        final int edits = 1 + random.nextInt(6);
        for (int e = 0; e < edits; e++)
        {
            switch (random.nextInt(5))
            {
                case 0:
                case 1:
                    frame[random.nextInt(frame.length)] = (byte)random.nextInt(256);
                    break;
                case 2:
                    // A length, offset or next-header field: the bytes most likely to confuse a parser.
                    if (frame.length > 14)
                    {
                        final int at = 14 + random.nextInt(Math.min(60, frame.length - 14));
                        frame[at] = (byte)(random.nextBoolean() ? 0xFF : random.nextInt(64));
                    }
                    break;
                case 3:
                    frame = Arrays.copyOf(frame, random.nextInt(frame.length + 1));
                    if (frame.length == 0)
                    {
                        return frame;
                    }
                    break;
                default:
                    frame = Arrays.copyOf(frame, frame.length + random.nextInt(40));
                    break;
            }
        }
        return frame;
    }
}
