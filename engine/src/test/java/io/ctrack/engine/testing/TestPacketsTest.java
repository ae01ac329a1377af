package io.ctrack.engine.testing;

import io.ctrack.engine.pcap.PcapReader;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

import static io.ctrack.engine.testing.TestPackets.SYN;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The builder itself must be right, or every test built on it proves nothing: its output is compared byte for byte
 * with frames scapy and the Linux kernel wrote into the reference corpus.
 */
class TestPacketsTest
{
    @Test
    void shouldComputeTheRfc1071ExampleChecksum()
    {
        // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to 0xddf2, so the checksum is ~0xddf2.
        final byte[] data = HexFormat.of().parseHex("0001f203f4f5f6f7");
        assertEquals(~0xddf2 & 0xFFFF, TestPackets.internetChecksum(data, 0, data.length, 0));
    }

    @Test
    void shouldBuildTheSameIpv4TcpSynAsScapy() throws Exception
    {
        final byte[] expected = l3(frame("crafted-bad-headers.pcap", 1));
        final byte[] built = TestPackets.ipv4("10.200.2.1", "10.200.2.2").ipId(1)
            .tcp(40001, 80).flags(SYN).seq(100).window(64240).datagram();
        assertArrayEquals(expected, built);
    }

    @Test
    void shouldBuildTheSameIpv6TcpSynAsScapy() throws Exception
    {
        final byte[] expected = l3(frame("crafted-ipv6-bad-headers.pcap", 1));
        final byte[] built = TestPackets.ipv6("fd00:200:2::1", "fd00:200:2::2")
            .tcp(40024, 80).flags(SYN).seq(100).window(8192).datagram();
        assertArrayEquals(expected, built);
    }

    @Test
    void shouldBuildTheSameSctpInitAsScapy() throws Exception
    {
        final byte[] expected = l3(frame("crafted-sctp-init.pcap", 1));
        final byte[] init = HexFormat.of().parseHex("111111110000ffff0002000200000064");
        final byte[] built = TestPackets.ipv4("10.200.2.1", "10.200.2.2").ipId(1)
            .sctp(50001, 38412).sctpChunk(1, 0, init).datagram();
        assertArrayEquals(expected, built);
    }

    @Test
    void shouldAgreeWithTheKernelOnEveryTcpChecksumOfARealCapture() throws Exception
    {
        int checked = 0;
        for (final byte[] frame : frames(Corpus.file("tcp-handshake-data-fin.pcap")))
        {
            final byte[] l3 = l3(frame);
            final int headerLength = (l3[0] & 0x0F) * 4;
            final int tcpLength = l3.length - headerLength;
            long pseudo = 0;
            for (int i = 12; i < 20; i += 2)
            {
                pseudo += ((l3[i] & 0xFF) << 8) | (l3[i + 1] & 0xFF);
            }
            pseudo += 6 + tcpLength;
            assertEquals(0, TestPackets.internetChecksum(l3, headerLength, tcpLength, pseudo), "frame " + checked);
            assertEquals(0, TestPackets.internetChecksum(l3, 0, headerLength, 0));
            checked++;
        }
        assertEquals(95, checked);
    }

    @Test
    void shouldSplitADatagramIntoFragmentsThatCoverItExactly()
    {
        final PacketBuilder datagram = TestPackets.ipv4("10.0.0.1", "10.0.0.2").udp(1000, 2000).payload(3000);
        final List<byte[]> fragments = TestPackets.fragmentsV4(datagram, 1400, 1400);
        final byte[] l3 = datagram.datagram();
        final byte[] joined = new byte[l3.length];
        System.arraycopy(l3, 0, joined, 0, 20);
        int expectedOffset = 0;
        for (int i = 0; i < fragments.size(); i++)
        {
            final byte[] f = l3(fragments.get(i));
            final int fragField = ((f[6] & 0xFF) << 8) | (f[7] & 0xFF);
            assertEquals(expectedOffset / 8, fragField & 0x1FFF);
            assertEquals(i < fragments.size() - 1, (fragField & 0x2000) != 0);
            assertEquals(0, TestPackets.internetChecksum(f, 0, 20, 0));
            System.arraycopy(f, 20, joined, 20 + expectedOffset, f.length - 20);
            expectedOffset += f.length - 20;
        }
        assertEquals(l3.length - 20, expectedOffset);
        assertArrayEquals(Arrays.copyOfRange(l3, 20, l3.length), Arrays.copyOfRange(joined, 20, joined.length));
    }

    private static byte[] l3(final byte[] frame)
    {
        return Arrays.copyOfRange(frame, TestPackets.ETH_HEADER_LENGTH, frame.length);
    }

    private static byte[] frame(final String name, final int number) throws Exception
    {
        return frames(Corpus.file(name)).get(number - 1);
    }

    private static List<byte[]> frames(final Path pcap) throws Exception
    {
        final List<byte[]> frames = new ArrayList<>();
        try (PcapReader reader = PcapReader.open(pcap))
        {
            while (reader.next())
            {
                final byte[] frame = new byte[reader.frameLength()];
                reader.buffer().getBytes(reader.frameOffset(), frame);
                frames.add(frame);
            }
        }
        return frames;
    }
}
