package io.ctrack.engine.packet;

import io.ctrack.engine.testing.PacketBuilder;
import io.ctrack.engine.testing.TestPackets;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;

import static io.ctrack.engine.testing.TestPackets.SYN;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The parser finds layers as Open vSwitch's {@code miniflow_extract} does ({@code lib/flow.c}: {@code parse_vlan},
 * {@code parse_ethertype}, {@code parse_mpls}, {@code ipv4_sanity_check}, {@code ipv6_sanity_check},
 * {@code parse_ipv6_ext_hdrs__}); a layer that fails its check is absent ({@link ParsedFrame#NONE}).
 */
class FrameParserTest
{
    private final FrameParser parser = new FrameParser();
    private final ParsedFrame frame = new ParsedFrame();

    private ParsedFrame parse(final byte[] bytes)
    {
        parser.parse(new UnsafeBuffer(bytes), 0, bytes.length, frame);
        return frame;
    }

    private static PacketBuilder tcp4()
    {
        return TestPackets.ipv4("10.0.0.1", "10.0.0.2").tcp(1000, 80).flags(SYN);
    }

    private static PacketBuilder udp6()
    {
        return TestPackets.ipv6("fd00::1", "fd00::2").udp(1000, 53).payload(10);
    }

    @Test
    void shouldFindEveryLayerOfAnUntaggedIpv4Frame()
    {
        parse(tcp4().payload(5).build());
        assertEquals(0x0800, frame.dlType());
        assertEquals(14, frame.l3Offset());
        assertEquals(34, frame.l4Offset());
        assertEquals(6, frame.nwProto());
        assertEquals(0, frame.nwFrag());
        assertEquals(25, frame.l4Size());
        assertEquals(45, frame.l3Size());
    }

    @Test
    void shouldFindLayersAtTheFrameOffsetInALargerBuffer()
    {
        final byte[] bytes = tcp4().build();
        final byte[] padded = new byte[bytes.length + 100];
        System.arraycopy(bytes, 0, padded, 37, bytes.length);
        parser.parse(new UnsafeBuffer(padded), 37, bytes.length, frame);
        assertEquals(37 + 14, frame.l3Offset());
        assertEquals(37 + 34, frame.l4Offset());
        assertEquals(20, frame.l4Size());
    }

    @ParameterizedTest
    @ValueSource(ints = { 0, 1, 6, 12, 13 })
    void shouldReportNoLayersForAFrameShorterThanAnEthernetHeader(final int length)
    {
        parse(Arrays.copyOf(tcp4().build(), length));
        assertEquals(0, frame.dlType());
        assertEquals(ParsedFrame.NONE, frame.l3Offset());
        assertEquals(ParsedFrame.NONE, frame.l4Offset());
    }

    @Test
    void shouldTreatEthernetPaddingAsNeitherL3NorL4()
    {
        parse(tcp4().pad(6).build());
        assertEquals(6, frame.l2PadSize());
        assertEquals(20, frame.l4Size());
        assertEquals(40, frame.l3Size());
    }

    @Test
    void shouldSkipOneVlanTag()
    {
        parse(tcp4().vlan(100).build());
        assertEquals(0x0800, frame.dlType());
        assertEquals(18, frame.l3Offset());
        assertEquals(38, frame.l4Offset());
    }

    @Test
    void shouldSkipAnOuter8021adAndAnInner8021qTag()
    {
        parse(tcp4().qinq(10, 20).build());
        assertEquals(0x0800, frame.dlType());
        assertEquals(22, frame.l3Offset());
    }

    @Test
    void shouldStopAfterTwoVlanTagsAsOpenVswitchDoes()
    {
        // FLOW_MAX_VLAN_HEADERS is 2: the third tag's TPID becomes the ethertype, so the frame is not IP.
        parse(tcp4().vlan(1).vlan(2).vlan(3).build());
        assertEquals(0x8100, frame.dlType());
        assertEquals(ParsedFrame.NONE, frame.l4Offset());
    }

    @Test
    void shouldNotReadATagThatTheFrameCutsOff()
    {
        // 12 bytes of MACs, the TPID and 3 bytes: parse_vlan needs 4 + 2 bytes after the MACs.
        final byte[] bytes = Arrays.copyOf(tcp4().vlan(100).build(), 17);
        parse(bytes);
        assertEquals(0x8100, frame.dlType());
        assertEquals(ParsedFrame.NONE, frame.l4Offset());
    }

    @Test
    void shouldReadTheEthertypeFromAnLlcSnapHeader()
    {
        parse(tcp4().llcSnap().build());
        assertEquals(0x0800, frame.dlType());
        assertEquals(22, frame.l3Offset());
        assertEquals(42, frame.l4Offset());
    }

    @Test
    void shouldReportNoEthertypeForLlcWithoutSnap()
    {
        final byte[] llc = { 0x42, 0x42, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
        parse(TestPackets.ethernet(llc.length, llc));
        assertEquals(Protocols.ETH_TYPE_NONE, frame.dlType());
        assertEquals(ParsedFrame.NONE, frame.l4Offset());
    }

    @Test
    void shouldReportNoEthertypeForAnLlcHeaderTooShortForSnap()
    {
        parse(TestPackets.ethernet(4, new byte[] { (byte)0xAA, (byte)0xAA, 0x03, 0 }));
        assertEquals(Protocols.ETH_TYPE_NONE, frame.dlType());
    }

    @Test
    void shouldSkipAnMplsLabelStackButNotParseWhatFollows()
    {
        // Open vSwitch keeps dl_type MPLS: the IPv4 packet under the labels is not tracked as IP.
        parse(tcp4().mpls(100).mpls(200).build());
        assertEquals(0x8847, frame.dlType());
        assertEquals(22, frame.l3Offset());
        assertEquals(ParsedFrame.NONE, frame.l4Offset());
    }

    @Test
    void shouldRefuseAnIpv4HeaderLengthBelowFiveWords()
    {
        parse(tcp4().ihl(4).build());
        assertEquals(0x0800, frame.dlType());
        assertEquals(ParsedFrame.NONE, frame.l4Offset());
    }

    @Test
    void shouldRefuseAnIpv4HeaderLengthBeyondTheTotalLength()
    {
        parse(tcp4().ihl(15).build());
        assertEquals(ParsedFrame.NONE, frame.l4Offset());
    }

    @Test
    void shouldRefuseAnIpv4TotalLengthBeyondTheFrame()
    {
        parse(tcp4().totalLength(1000).build());
        assertEquals(ParsedFrame.NONE, frame.l4Offset());
    }

    @Test
    void shouldRefuseAnIpv4HeaderCutByTheFrame()
    {
        parse(tcp4().truncateTo(14 + 12).build());
        assertEquals(ParsedFrame.NONE, frame.l4Offset());
    }

    @Test
    void shouldTakeTheDatagramEndFromAShortTotalLength()
    {
        // Total length 30: the rest of the frame is padding, so only 10 bytes of TCP remain.
        parse(tcp4().totalLength(30).build());
        assertEquals(34, frame.l4Offset());
        assertEquals(10, frame.l4Size());
        assertEquals(10, frame.l2PadSize());
    }

    @Test
    void shouldNotCheckTheIpv4VersionNibble()
    {
        parse(tcp4().ipVersion(6).build());
        assertEquals(34, frame.l4Offset());
        assertEquals(6, frame.nwProto());
    }

    @Test
    void shouldSkipIpv4Options()
    {
        parse(tcp4().ipOptions(new byte[] { (byte)0x94, 0x04, 0, 0 }).build());
        assertEquals(38, frame.l4Offset());
    }

    @Test
    void shouldMarkAFirstIpv4FragmentAndALaterOne()
    {
        parse(tcp4().moreFragments().build());
        assertEquals(ParsedFrame.FRAG_ANY, frame.nwFrag());
        parse(tcp4().fragmentOffset(1480).build());
        assertEquals(ParsedFrame.FRAG_ANY | ParsedFrame.FRAG_LATER, frame.nwFrag());
        parse(tcp4().dontFragment().build());
        assertEquals(0, frame.nwFrag());
    }

    @Test
    void shouldFindTheTransportAfterAnIpv6ExtensionHeaderChain()
    {
        parse(udp6().hopByHop().routing().destinationOptions().authentication().build());
        assertEquals(0x86DD, frame.dlType());
        assertEquals(17, frame.nwProto());
        assertEquals(14 + 40 + 8 + 8 + 8 + 16, frame.l4Offset());
        assertEquals(18, frame.l4Size());
    }

    @Test
    void shouldWalkALongHopByHopHeader()
    {
        parse(udp6().hopByHop(24).build());
        assertEquals(14 + 40 + 24, frame.l4Offset());
    }

    @Test
    void shouldRefuseAnIpv6ExtensionHeaderLongerThanThePayload()
    {
        final byte[] hbh = new byte[8];
        hbh[1] = 4;
        parse(TestPackets.ipv6("fd00::1", "fd00::2").extensionHeader(0, hbh).rawL4(59, new byte[0]).build());
        assertEquals(ParsedFrame.NONE, frame.l4Offset());
    }

    @Test
    void shouldRefuseAnIpv6ExtensionHeaderShorterThanEightBytes()
    {
        parse(TestPackets.ipv6("fd00::1", "fd00::2").extensionHeader(60, new byte[4]).rawL4(59, new byte[0]).build());
        assertEquals(ParsedFrame.NONE, frame.l4Offset());
    }

    @Test
    void shouldStopAtAnUnknownNextHeader()
    {
        parse(TestPackets.ipv6("fd00::1", "fd00::2").rawL4(50, new byte[16]).build());
        assertEquals(50, frame.nwProto());
        assertEquals(54, frame.l4Offset());
    }

    @Test
    void shouldContinueThroughAFirstIpv6FragmentAndStopAtALaterOne()
    {
        parse(udp6().fragmentHeader(0, true, 7).build());
        assertEquals(ParsedFrame.FRAG_ANY, frame.nwFrag());
        assertEquals(17, frame.nwProto());
        assertEquals(14 + 48, frame.l4Offset());

        parse(udp6().fragmentHeader(1280, false, 7).build());
        assertEquals(ParsedFrame.FRAG_ANY | ParsedFrame.FRAG_LATER, frame.nwFrag());
        assertEquals(44, frame.nwProto());
        assertEquals(14 + 48, frame.l4Offset());
    }

    @Test
    void shouldNotTreatAnAtomicFragmentHeaderAsAFragment()
    {
        // parse_ipv6_ext_hdrs__ only flags a fragment when ip6f_offlg is non-zero.
        parse(udp6().fragmentHeader(0, false, 7).build());
        assertEquals(0, frame.nwFrag());
        assertEquals(17, frame.nwProto());
    }

    @Test
    void shouldRefuseAnIpv6PayloadLengthBeyondTheFrame()
    {
        parse(udp6().payloadLength(500).build());
        assertEquals(ParsedFrame.NONE, frame.l4Offset());
    }

    @Test
    void shouldRefuseATruncatedIpv6Header()
    {
        parse(udp6().truncateTo(14 + 30).build());
        assertEquals(ParsedFrame.NONE, frame.l4Offset());
    }

    @Test
    void shouldTreatBytesAfterTheIpv6PayloadAsPadding()
    {
        parse(udp6().pad(7).build());
        assertEquals(7, frame.l2PadSize());
        assertEquals(18, frame.l4Size());
    }

    @Test
    void shouldLeaveNonIpFramesWithoutL4()
    {
        parse(TestPackets.arpRequest("10.0.0.1", "10.0.0.2"));
        assertEquals(0x0806, frame.dlType());
        assertEquals(ParsedFrame.NONE, frame.l4Offset());
    }
}
