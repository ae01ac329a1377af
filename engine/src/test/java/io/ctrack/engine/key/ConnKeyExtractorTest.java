package io.ctrack.engine.key;

import io.ctrack.engine.packet.FrameParser;
import io.ctrack.engine.packet.ParsedFrame;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.testing.PacketBuilder;
import io.ctrack.engine.testing.TestPackets;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static io.ctrack.engine.status.EngineCounter.INVALID_FRAGMENT;
import static io.ctrack.engine.status.EngineCounter.INVALID_ICMP;
import static io.ctrack.engine.status.EngineCounter.INVALID_L3_CHECKSUM;
import static io.ctrack.engine.status.EngineCounter.INVALID_L3_HEADER;
import static io.ctrack.engine.status.EngineCounter.INVALID_L4_CHECKSUM;
import static io.ctrack.engine.status.EngineCounter.INVALID_L4_HEADER;
import static io.ctrack.engine.status.EngineCounter.INVALID_NOT_IP;
import static io.ctrack.engine.testing.TestPackets.ACK;
import static io.ctrack.engine.testing.TestPackets.SYN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Key extraction and validation as Open vSwitch's {@code conn_key_extract} ({@code lib/conntrack.c}:
 * {@code extract_l3_ipv4}, {@code extract_l3_ipv6}, {@code check_l4_*}, {@code extract_l4_*},
 * {@code extract_l4_icmp}, {@code extract_l4_icmp6}, {@code sctp_check_len}), behind the frame parser. Each
 * malformation maps to its own counter.
 */
class ConnKeyExtractorTest
{
    private static final String CLIENT = "10.0.0.1";
    private static final String SERVER = "10.0.0.2";
    private static final String ROUTER = "10.0.0.254";
    private static final String CLIENT6 = "fd00::1";
    private static final String SERVER6 = "fd00::2";
    private static final String ROUTER6 = "fd00::fe";

    private final FrameParser parser = new FrameParser();
    private final ParsedFrame parsed = new ParsedFrame();
    private final ConnKeyExtractor extractor = new ConnKeyExtractor();
    private final CtRequest request = new CtRequest();

    private int extract(final byte[] frame)
    {
        parser.parse(TestPackets.buffer(frame), 0, frame.length, parsed);
        return extractor.extract(parsed, 7, true, request);
    }

    private void assertValid(final byte[] frame)
    {
        final int result = extract(frame);
        assertEquals(ConnKeyExtractor.OK, result, () -> "expected a key, got " + EngineCounter.byId(result));
    }

    private void assertInvalid(final EngineCounter reason, final byte[] frame)
    {
        final int result = extract(frame);
        assertEquals(reason.id(), result,
            () -> "expected " + reason + ", got " + (result == ConnKeyExtractor.OK ? "OK" : EngineCounter.byId(result)));
    }

    private static PacketBuilder tcp4()
    {
        return TestPackets.ipv4(CLIENT, SERVER).tcp(40000, 80).flags(SYN).seq(1000);
    }

    private static PacketBuilder udp4()
    {
        return TestPackets.ipv4(CLIENT, SERVER).udp(40000, 53).payload(12);
    }

    private static PacketBuilder tcp6()
    {
        return TestPackets.ipv6(CLIENT6, SERVER6).tcp(40000, 80).flags(SYN).seq(1000);
    }

    private static PacketBuilder udp6()
    {
        return TestPackets.ipv6(CLIENT6, SERVER6).udp(40000, 53).payload(12);
    }

    private static long v4(final String address)
    {
        final byte[] a = TestPackets.ipv4(address, address).datagram();
        return ((a[12] & 0xFFL) << 24) | ((a[13] & 0xFF) << 16) | ((a[14] & 0xFF) << 8) | (a[15] & 0xFF);
    }

    // ---- L2 and L3 -------------------------------------------------------------------------------------------

    @Test
    void shouldExtractTheKeyOfAnIpv4TcpSegment()
    {
        assertValid(tcp4().ack(77).window(1234).payload(9).build());
        assertFalse(request.isIpv6());
        assertFalse(request.isIcmpRelated());
        assertEquals(6, request.nwProto());
        assertEquals(7, request.zone());
        assertEquals(v4(CLIENT), request.srcLo());
        assertEquals(v4(SERVER), request.dstLo());
        assertEquals(40000 << 16, request.srcL4());
        assertEquals(80 << 16, request.dstL4());
        assertEquals(1000, request.tcpSeq());
        assertEquals(77, request.tcpAck());
        assertEquals(1234, request.tcpWindow());
        assertEquals(SYN, request.tcpFlags());
        assertEquals(9, request.tcpPayloadLength());
        assertEquals(SymmetricHash.of(request), request.hash());
    }

    @Test
    void shouldGiveBothDirectionsOfAConnectionTheSameHash()
    {
        assertValid(udp4().build());
        final int forward = request.hash();
        assertValid(TestPackets.ipv4(SERVER, CLIENT).udp(53, 40000).build());
        assertEquals(forward, request.hash());

        assertValid(udp6().build());
        final int forward6 = request.hash();
        assertValid(TestPackets.ipv6(SERVER6, CLIENT6).udp(53, 40000).build());
        assertEquals(forward6, request.hash());
    }

    @Test
    void shouldRefuseFramesThatAreNotIp()
    {
        assertInvalid(INVALID_NOT_IP, Arrays.copyOf(tcp4().build(), 13));
        assertInvalid(INVALID_NOT_IP, TestPackets.arpRequest(CLIENT, SERVER));
        assertInvalid(INVALID_NOT_IP, TestPackets.ethernet(0x88CC, new byte[46]));
        assertInvalid(INVALID_NOT_IP, tcp4().mpls(100).build());
        assertInvalid(INVALID_NOT_IP, tcp4().vlan(1).vlan(2).vlan(3).build());
    }

    @Test
    void shouldTrackIpUnderOneOrTwoVlanTagsAndLlcSnap()
    {
        assertValid(tcp4().vlan(100).build());
        assertEquals(v4(CLIENT), request.srcLo());
        assertValid(tcp4().qinq(10, 20).build());
        assertValid(tcp4().llcSnap().build());
        assertValid(udp6().vlan(5).build());
    }

    @Test
    void shouldAcceptEthernetPaddingAfterTheDatagram()
    {
        assertValid(tcp4().pad(6).build());
        assertEquals(0, request.tcpPayloadLength());
        assertValid(udp6().pad(9).build());
    }

    @Test
    void shouldRefuseMalformedIpv4Headers()
    {
        assertInvalid(INVALID_L3_HEADER, tcp4().truncateTo(14 + 12).build());
        assertInvalid(INVALID_L3_HEADER, tcp4().ihl(4).build());
        assertInvalid(INVALID_L3_HEADER, tcp4().ihl(15).build());
        assertInvalid(INVALID_L3_HEADER, tcp4().totalLength(1000).build());
        assertInvalid(INVALID_L3_HEADER, tcp4().totalLength(19).build());
        // Total length 40 but only 10 bytes of TCP in the frame.
        assertInvalid(INVALID_L3_HEADER, tcp4().truncateTo(14 + 30).build());
    }

    @Test
    void shouldRefuseAnIpv4HeaderWithABadChecksum()
    {
        assertInvalid(INVALID_L3_CHECKSUM, tcp4().badIpChecksum().build());
        assertInvalid(INVALID_L3_CHECKSUM, tcp4().ipOptions(new byte[] { (byte)0x94, 4, 0, 0 }).ipChecksum(0x1234).build());
    }

    @Test
    void shouldVerifyTheChecksumOverIpv4Options()
    {
        assertValid(udp4().ipOptions(new byte[] { (byte)0x94, 4, 0, 0 }).build());
    }

    @Test
    void shouldAcceptVersionSixInAnIpv4Frame()
    {
        // Neither miniflow_extract nor extract_l3_ipv4 looks at the version nibble.
        assertValid(tcp4().ipVersion(6).build());
        assertEquals(v4(CLIENT), request.srcLo());
    }

    @Test
    void shouldRefuseALaterIpv4FragmentButNotAFirstOne()
    {
        assertInvalid(INVALID_FRAGMENT, udp4().fragmentOffset(8).moreFragments().build());
        assertInvalid(INVALID_FRAGMENT, udp4().fragmentOffset(1480).build());
        // extract_l3_ipv4 refuses only IP_IS_LATER_FRAG; a first fragment whose checksum covers what it carries passes.
        assertValid(udp4().moreFragments().build());
    }

    @Test
    void shouldRefuseMalformedIpv6Headers()
    {
        assertInvalid(INVALID_L3_HEADER, tcp6().truncateTo(14 + 30).build());
        assertInvalid(INVALID_L3_HEADER, tcp6().payloadLength(500).build());
        final byte[] longHbh = new byte[8];
        longHbh[1] = 3;
        assertInvalid(INVALID_L3_HEADER, udp6().extensionHeader(0, longHbh).build());
    }

    @Test
    void shouldWalkIpv6ExtensionHeadersToTheTransport()
    {
        assertValid(tcp6().hopByHop().routing().destinationOptions().authentication().build());
        assertTrue(request.isIpv6());
        assertEquals(6, request.nwProto());
        assertEquals(40000 << 16, request.srcL4());
        assertEquals(SYN, request.tcpFlags());
    }

    @Test
    void shouldExtractTheIpv6Addresses()
    {
        assertValid(TestPackets.ipv6("2001:db8:1:2:3:4:5:6", "fe80::abcd").udp(1, 2).build());
        assertEquals(0x2001_0db8_0001_0002L, request.srcHi());
        assertEquals(0x0003_0004_0005_0006L, request.srcLo());
        assertEquals(0xfe80_0000_0000_0000L, request.dstHi());
        assertEquals(0xabcdL, request.dstLo());
    }

    @Test
    void shouldRefuseIpv6FragmentsFirstOrLater()
    {
        assertInvalid(INVALID_FRAGMENT, udp6().fragmentHeader(0, true, 1).build());
        assertInvalid(INVALID_FRAGMENT, udp6().fragmentHeader(1280, false, 1).build());
    }

    @Test
    void shouldTrackAnAtomicIpv6FragmentAsAWholePacket()
    {
        assertValid(udp6().fragmentHeader(0, false, 1).build());
        assertEquals(17, request.nwProto());
    }

    @Test
    void shouldTrackProtocolsWithoutPortsWithZeroEndpoints()
    {
        assertValid(TestPackets.ipv4(CLIENT, SERVER).rawL4(47, new byte[24]).build());
        assertEquals(47, request.nwProto());
        assertEquals(0, request.srcL4());
        assertEquals(0, request.dstL4());
        assertValid(TestPackets.ipv6(CLIENT6, SERVER6).rawL4(50, new byte[24]).build());
        assertEquals(50, request.nwProto());
        assertValid(TestPackets.ipv6(CLIENT6, SERVER6).rawL4(59, new byte[0]).build());
    }

    // ---- TCP ---------------------------------------------------------------------------------------------------

    @Test
    void shouldRefuseMalformedTcpHeaders()
    {
        assertInvalid(INVALID_L4_HEADER, tcp4().dataOffset(3).build());
        assertInvalid(INVALID_L4_HEADER, tcp4().dataOffset(15).build());
        assertInvalid(INVALID_L4_HEADER, tcp4().totalLength(30).build());
        assertInvalid(INVALID_L4_HEADER, tcp6().dataOffset(3).build());
        assertInvalid(INVALID_L4_HEADER, tcp6().payloadLength(12).build());
    }

    @Test
    void shouldRefuseABadTcpChecksum()
    {
        assertInvalid(INVALID_L4_CHECKSUM, tcp4().badL4Checksum().build());
        assertInvalid(INVALID_L4_CHECKSUM, tcp6().badL4Checksum().build());
        assertInvalid(INVALID_L4_CHECKSUM, tcp4().payload(33).badL4Checksum().build());
    }

    @Test
    void shouldVerifyTheTcpChecksumOverAnOddLength()
    {
        assertValid(tcp4().payload(33).build());
        assertValid(tcp6().payload(1).build());
    }

    @Test
    void shouldRefusePortZero()
    {
        assertInvalid(INVALID_L4_HEADER, TestPackets.ipv4(CLIENT, SERVER).tcp(0, 80).flags(SYN).build());
        assertInvalid(INVALID_L4_HEADER, TestPackets.ipv4(CLIENT, SERVER).udp(5000, 0).build());
        assertInvalid(INVALID_L4_HEADER, TestPackets.ipv6(CLIENT6, SERVER6).udp(0, 53).build());
        assertInvalid(INVALID_L4_HEADER, TestPackets.ipv4(CLIENT, SERVER).sctp(0, 9).sctpInit().build());
    }

    @Test
    void shouldReadTheWindowScaleOptionOfASyn()
    {
        assertValid(tcp4().mss(1460).wscale(7).build());
        assertEquals(0x80 | 7, request.tcpWscale());
        assertValid(tcp4().wscale(0).build());
        assertEquals(0x80, request.tcpWscale());
        assertValid(tcp4().build());
        assertEquals(0, request.tcpWscale());
    }

    @Test
    void shouldCapTheWindowScaleAtFourteen()
    {
        assertValid(tcp4().wscale(15).build());
        assertEquals(0x80 | 14, request.tcpWscale());
    }

    @Test
    void shouldIgnoreTheWindowScaleOptionOutsideASyn()
    {
        assertValid(tcp4().flags(ACK).wscale(7).build());
        assertEquals(0, request.tcpWscale());
    }

    @Test
    void shouldStopReadingOptionsAtEndOfOptionList()
    {
        // EOL, then a window-scale option that must not be seen (tcp_get_wscale returns at EOL).
        assertValid(tcp4().tcpOptions(new byte[] { 0, 3, 3, 7 }).build());
        assertEquals(0, request.tcpWscale());
        // Timestamps (kind 8, length 10) and SACK-permitted before the window scale.
        assertValid(tcp4().tcpOptions(new byte[] { 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 9 }).build());
        assertEquals(0x80 | 9, request.tcpWscale());
    }

    // ---- UDP ---------------------------------------------------------------------------------------------------

    @Test
    void shouldRefuseABadUdpChecksum()
    {
        assertInvalid(INVALID_L4_CHECKSUM, udp4().badL4Checksum().build());
        assertInvalid(INVALID_L4_CHECKSUM, udp6().badL4Checksum().build());
    }

    @Test
    void shouldAcceptUdpChecksumZeroOnIpv4Only()
    {
        assertValid(udp4().udpChecksum(0).build());
        assertInvalid(INVALID_L4_CHECKSUM, udp6().udpChecksum(0).build());
    }

    @Test
    void shouldRefuseUdpLengthsOutsideTheDatagram()
    {
        assertInvalid(INVALID_L4_HEADER, udp4().udpLength(200).build());
        assertInvalid(INVALID_L4_HEADER, udp4().udpLength(4).build());
        assertInvalid(INVALID_L4_HEADER, udp4().payload(0).totalLength(20 + 6).build());
        assertInvalid(INVALID_L4_HEADER, udp6().udpLength(7).build());
    }

    @Test
    void shouldAcceptAUdpLengthShorterThanTheDatagram()
    {
        // check_l4_udp only requires 8 <= udp_len <= size; the checksum covers the whole L4 size.
        assertValid(udp4().udpLength(10).build());
    }

    // ---- SCTP --------------------------------------------------------------------------------------------------

    @Test
    void shouldExtractAnSctpKeyAfterCheckingChunksAndCrc()
    {
        assertValid(TestPackets.ipv4(CLIENT, SERVER).sctp(50001, 38412).sctpInit().build());
        assertEquals(132, request.nwProto());
        assertEquals(50001 << 16, request.srcL4());
        assertEquals(38412 << 16, request.dstL4());
        assertValid(TestPackets.ipv6(CLIENT6, SERVER6).sctp(5000, 5001).sctpInit().build());
    }

    @Test
    void shouldRefuseABadSctpCrc()
    {
        assertInvalid(INVALID_L4_CHECKSUM, TestPackets.ipv4(CLIENT, SERVER).sctp(1, 2).sctpInit().badL4Checksum().build());
        assertInvalid(INVALID_L4_CHECKSUM, TestPackets.ipv4(CLIENT, SERVER).sctp(1, 2).sctpInit().l4Checksum(0).build());
    }

    @Test
    void shouldWalkSctpChunksWithPadding()
    {
        // A DATA chunk of length 4 + 5 (padded to 12) followed by a HEARTBEAT chunk: the lengths tile the packet.
        assertValid(TestPackets.ipv4(CLIENT, SERVER).sctp(1, 2)
            .sctpChunk(0, 3, new byte[5]).sctpChunk(4, 0, new byte[8]).build());
        // A header alone, no chunk, is also tiled exactly.
        assertValid(TestPackets.ipv4(CLIENT, SERVER).sctp(1, 2).build());
    }

    @Test
    void shouldRefuseSctpChunkLengthsThatDoNotTileThePacket()
    {
        assertInvalid(INVALID_L4_HEADER, TestPackets.ipv4(CLIENT, SERVER).sctp(1, 2).sctpChunk(1, 0, 3, new byte[0]).build());
        assertInvalid(INVALID_L4_HEADER, TestPackets.ipv4(CLIENT, SERVER).sctp(1, 2).sctpChunk(1, 0, 40, new byte[16]).build());
        assertInvalid(INVALID_L4_HEADER, TestPackets.ipv4(CLIENT, SERVER).sctp(1, 2).sctpInit().sctpTrailer(new byte[2]).build());
        assertInvalid(INVALID_L4_HEADER, TestPackets.ipv4(CLIENT, SERVER).sctp(1, 2).sctpInit().sctpTrailer(new byte[4]).build());
        assertInvalid(INVALID_L4_HEADER, TestPackets.ipv4(CLIENT, SERVER).rawL4(132, new byte[8]).build());
    }

    // ---- ICMP --------------------------------------------------------------------------------------------------

    @Test
    void shouldKeyIcmpEchoByIdentifierTypeAndReplyType()
    {
        assertValid(TestPackets.ipv4(CLIENT, SERVER).echo(8, 0x4242, 1).payload(16).build());
        assertEquals(1, request.nwProto());
        assertEquals(0x4242 << 16 | 8 << 8, request.srcL4());
        assertEquals(0x4242 << 16, request.dstL4());
        assertEquals(8, request.icmpType());
        assertValid(TestPackets.ipv4(CLIENT, SERVER).echo(13, 1, 1).payload(12).build());
        assertEquals(1 << 16 | 14 << 8, request.dstL4());
        assertValid(TestPackets.ipv4(CLIENT, SERVER).echo(16, 1, 1).build());
        assertEquals(1 << 16 | 15 << 8, request.dstL4());
    }

    @Test
    void shouldRefuseInformationalIcmpWithANonZeroCode()
    {
        assertInvalid(INVALID_ICMP, TestPackets.ipv4(CLIENT, SERVER).icmp(8, 1).icmpRest(0x00010001).build());
        assertInvalid(INVALID_ICMP, TestPackets.ipv6(CLIENT6, SERVER6).icmp(128, 1).icmpRest(0x00010001).build());
    }

    @Test
    void shouldRefuseABadIcmpChecksum()
    {
        assertInvalid(INVALID_L4_CHECKSUM, TestPackets.ipv4(CLIENT, SERVER).echo(8, 1, 1).badL4Checksum().build());
        assertInvalid(INVALID_L4_CHECKSUM, TestPackets.ipv6(CLIENT6, SERVER6).echo(128, 1, 1).badL4Checksum().build());
    }

    @Test
    void shouldRefuseIcmpTypesConntrackDoesNotKnow()
    {
        assertInvalid(INVALID_ICMP, TestPackets.ipv4(CLIENT, SERVER).icmp(9, 0).build());
        assertInvalid(INVALID_ICMP, TestPackets.ipv4(CLIENT, SERVER).icmp(17, 0).build());
        // Neighbour solicitation and advertisement are not tracked (arp-nd-ping.pcap packets 5 and 6).
        assertInvalid(INVALID_ICMP, TestPackets.ipv6(CLIENT6, SERVER6).icmp(135, 0).payload(16).build());
        assertInvalid(INVALID_ICMP, TestPackets.ipv6(CLIENT6, SERVER6).icmp(136, 0).payload(16).build());
        assertInvalid(INVALID_ICMP, TestPackets.ipv6(CLIENT6, SERVER6).icmp(133, 0).build());
    }

    @Test
    void shouldRefuseIcmpShorterThanItsHeader()
    {
        // A valid checksum over 4 bytes; extract_l4_icmp needs 8, extract_l4_icmp6 needs 4 after the 4-byte header.
        final byte[] icmp4 = TestPackets.ipv4(CLIENT, SERVER).rawL4(1, new byte[] { 8, 0, (byte)0xF7, (byte)0xFF }).build();
        assertInvalid(INVALID_L4_HEADER, icmp4);
        final byte[] shortV6 = TestPackets.ipv6(CLIENT6, SERVER6).echo(128, 1, 1).build();
        final byte[] cut = TestPackets.ipv6(CLIENT6, SERVER6).rawL4(58, Arrays.copyOfRange(shortV6, 54, 58)).build();
        fixIcmp6Checksum(cut);
        assertInvalid(INVALID_L4_HEADER, cut);
    }

    @Test
    void shouldKeyAnIcmpErrorByTheReversedQuotedTuple()
    {
        final byte[] quoted = tcp4().payload(100).datagram();
        assertValid(TestPackets.ipv4(SERVER, CLIENT).icmpError(3, 3, quoted).build());
        assertTrue(request.isIcmpRelated());
        assertEquals(6, request.nwProto());
        assertEquals(v4(SERVER), request.srcLo());
        assertEquals(v4(CLIENT), request.dstLo());
        assertEquals(80 << 16, request.srcL4());
        assertEquals(40000 << 16, request.dstL4());
    }

    @Test
    void shouldAcceptEveryIcmpv4ErrorTypeThatQuotesAPacket()
    {
        final byte[] quoted = udp4().datagram();
        for (final int type : new int[] { 3, 4, 5, 11, 12 })
        {
            assertValid(TestPackets.ipv4(ROUTER, CLIENT).icmpError(type, 0, quoted).build());
            assertTrue(request.isIcmpRelated());
        }
    }

    @Test
    void shouldRequireTheQuotedSourceToBeTheErrorsDestination()
    {
        final byte[] quoted = tcp4().datagram();
        assertValid(TestPackets.ipv4(ROUTER, CLIENT).icmpError(11, 0, quoted).build());
        assertInvalid(INVALID_ICMP, TestPackets.ipv4(CLIENT, SERVER).icmpError(3, 1, quoted).build());
    }

    @Test
    void shouldRequireEightBytesOfTheQuotedTransportHeaderInIcmpv4()
    {
        final byte[] quoted = tcp4().datagram();
        assertValid(TestPackets.ipv4(ROUTER, CLIENT).icmpError(3, 4, Arrays.copyOf(quoted, 20 + 8)).build());
        assertInvalid(INVALID_ICMP, TestPackets.ipv4(ROUTER, CLIENT).icmpError(3, 4, Arrays.copyOf(quoted, 20 + 7)).build());
        assertInvalid(INVALID_ICMP, TestPackets.ipv4(ROUTER, CLIENT).icmpError(3, 4, Arrays.copyOf(quoted, 20 + 4)).build());
        final byte[] udp = udp4().datagram();
        assertValid(TestPackets.ipv4(ROUTER, CLIENT).icmpError(3, 4, Arrays.copyOf(udp, 20 + 8)).build());
    }

    @Test
    void shouldRefuseAnUnusableQuotedIpv4Header()
    {
        final byte[] quoted = tcp4().datagram();
        assertInvalid(INVALID_ICMP, TestPackets.ipv4(ROUTER, CLIENT).icmpError(3, 1, Arrays.copyOf(quoted, 12)).build());
        assertInvalid(INVALID_ICMP, TestPackets.ipv4(ROUTER, CLIENT).icmpError(3, 1, tcp4().ihl(4).datagram()).build());
        final byte[] options = tcp4().ipOptions(new byte[8]).datagram();
        assertInvalid(INVALID_ICMP, TestPackets.ipv4(ROUTER, CLIENT).icmpError(3, 1, Arrays.copyOf(options, 24)).build());
        assertValid(TestPackets.ipv4(ROUTER, CLIENT).icmpError(3, 1, Arrays.copyOf(options, 28 + 8)).build());
        assertInvalid(INVALID_ICMP, TestPackets.ipv4(ROUTER, CLIENT).icmpError(3, 1, udp4().fragmentOffset(8).datagram()).build());
    }

    @Test
    void shouldNotCheckTheQuotedHeadersChecksums()
    {
        // extract_l4 runs with a null packet inside an ICMP error: no IP or transport checksum, no UDP length check.
        final byte[] quoted = tcp4().badIpChecksum().badL4Checksum().datagram();
        assertValid(TestPackets.ipv4(ROUTER, CLIENT).icmpError(3, 1, quoted).build());
        assertValid(TestPackets.ipv4(ROUTER, CLIENT).icmpError(3, 1, udp4().udpLength(3).datagram()).build());
    }

    @Test
    void shouldRefuseAQuotedTransportHeaderWithPortZero()
    {
        final byte[] quoted = TestPackets.ipv4(CLIENT, SERVER).udp(0, 53).datagram();
        assertInvalid(INVALID_ICMP, TestPackets.ipv4(ROUTER, CLIENT).icmpError(3, 3, quoted).build());
    }

    @Test
    void shouldFollowAQuotedEchoButNotAQuotedError()
    {
        final byte[] echo = TestPackets.ipv4(CLIENT, SERVER).echo(8, 9, 1).payload(8).datagram();
        assertValid(TestPackets.ipv4(ROUTER, CLIENT).icmpError(11, 0, echo).build());
        assertEquals(1, request.nwProto());
        assertEquals(9 << 16, request.srcL4());
        assertEquals(9 << 16 | 8 << 8, request.dstL4());

        final byte[] error = TestPackets.ipv4(CLIENT, SERVER).icmpError(3, 3, udp4().datagram()).datagram();
        assertInvalid(INVALID_ICMP, TestPackets.ipv4(ROUTER, CLIENT).icmpError(3, 1, error).build());
    }

    @Test
    void shouldKeyAnIcmpv6EchoByIdentifier()
    {
        assertValid(TestPackets.ipv6(CLIENT6, SERVER6).echo(128, 77, 1).payload(8).build());
        assertTrue(request.isIpv6());
        assertEquals(58, request.nwProto());
        assertEquals(77 << 16 | 128 << 8, request.srcL4());
        assertEquals(77 << 16 | 129 << 8, request.dstL4());
    }

    @Test
    void shouldKeyAnIcmpv6ErrorByTheReversedQuotedTuple()
    {
        final byte[] quoted = tcp6().payload(10).datagram();
        for (final int type : new int[] { 1, 2, 3, 4 })
        {
            assertValid(TestPackets.ipv6(ROUTER6, CLIENT6).icmpError(type, 0, quoted).build());
            assertTrue(request.isIcmpRelated());
            assertEquals(6, request.nwProto());
            assertEquals(80 << 16, request.srcL4());
            assertEquals(40000 << 16, request.dstL4());
        }
    }

    @Test
    void shouldRequireTheWholeQuotedTransportHeaderInIcmpv6()
    {
        // extract_l4_icmp6 calls extract_l4 without a check length: a TCP header needs its 20 bytes.
        final byte[] quoted = tcp6().datagram();
        assertValid(TestPackets.ipv6(ROUTER6, CLIENT6).icmpError(1, 4, Arrays.copyOf(quoted, 40 + 20)).build());
        assertInvalid(INVALID_ICMP, TestPackets.ipv6(ROUTER6, CLIENT6).icmpError(1, 4, Arrays.copyOf(quoted, 40 + 19)).build());
        assertInvalid(INVALID_ICMP, TestPackets.ipv6(ROUTER6, CLIENT6).icmpError(1, 4, Arrays.copyOf(quoted, 40 + 8)).build());
        assertValid(TestPackets.ipv6(ROUTER6, CLIENT6).icmpError(1, 4, Arrays.copyOf(udp6().datagram(), 48)).build());
        assertInvalid(INVALID_ICMP, TestPackets.ipv6(ROUTER6, CLIENT6).icmpError(1, 4, Arrays.copyOf(quoted, 39)).build());
    }

    @Test
    void shouldRequireTheQuotedIpv6SourceToBeTheErrorsDestination()
    {
        final byte[] quoted = udp6().datagram();
        assertInvalid(INVALID_ICMP, TestPackets.ipv6(ROUTER6, SERVER6).icmpError(1, 4, quoted).build());
    }

    @Test
    void shouldWalkTheQuotedIpv6ExtensionHeadersAndRefuseAQuotedFragment()
    {
        assertValid(TestPackets.ipv6(ROUTER6, CLIENT6).icmpError(2, 0, udp6().hopByHop().destinationOptions().datagram()).build());
        assertEquals(17, request.nwProto());
        assertInvalid(INVALID_ICMP, TestPackets.ipv6(ROUTER6, CLIENT6).icmpError(2, 0, udp6().fragmentHeader(0, true, 5).datagram()).build());
    }

    @Test
    void shouldNotRecurseIntoAnIcmpv6ErrorQuotingAnError()
    {
        final byte[] inner = TestPackets.ipv6(CLIENT6, SERVER6).icmpError(1, 0, udp6().datagram()).datagram();
        assertInvalid(INVALID_ICMP, TestPackets.ipv6(ROUTER6, CLIENT6).icmpError(1, 0, inner).build());
    }

    private static void fixIcmp6Checksum(final byte[] frame)
    {
        final int l4 = 14 + 40;
        frame[l4 + 2] = 0;
        frame[l4 + 3] = 0;
        long pseudo = 58 + (frame.length - l4);
        for (int i = 14 + 8; i < 14 + 40; i += 2)
        {
            pseudo += ((frame[i] & 0xFF) << 8) | (frame[i + 1] & 0xFF);
        }
        final int sum = TestPackets.internetChecksum(frame, l4, frame.length - l4, pseudo);
        frame[l4 + 2] = (byte)(sum >>> 8);
        frame[l4 + 3] = (byte)sum;
    }
}
