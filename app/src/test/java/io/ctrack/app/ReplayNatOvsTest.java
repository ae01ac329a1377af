package io.ctrack.app;

import io.ctrack.engine.pcap.PcapReader;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import static io.ctrack.app.ReplayCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Source NAT of whole captures against {@code ovs-vswitchd}'s table after the same packets went through
 * {@code ct(commit,nat(src=...))} ({@code testdata/differential/expected/FILE.snat.dump.txt}, see its README): the
 * same connections, states and reply tuples on every engine. The address picked from a range of two depends on a
 * hash with a per-process random basis in Open vSwitch, so both tables name it {@code 10.9.0.X}.
 * <p>
 * And packet by packet against Open vSwitch's {@code test-conntrack pcap} executing every batch with the NAT action
 * ({@code expected/FILE.nat-src.ovs.txt}, {@code FILE.nat-dst.ovs.txt}; the harness mended as that README says): the
 * same verdicts, {@code snat}/{@code dnat} flags included, and, for IPv4 source NAT, the same rewritten packets byte
 * for byte ({@code expected/ipv4.pcap.nat-src.rewritten.pcap}).
 */
@Timeout(60)
class ReplayNatOvsTest
{
    @ParameterizedTest(name = "{0} {1} {2}")
    @CsvSource({
        "ipv4.pcap, src=10.9.0.1-10.9.0.2, --engine=embedded",
        "ipv4.pcap, src=10.9.0.1-10.9.0.2, --buckets=1",
        "ipv4.pcap, src=10.9.0.1-10.9.0.2, --buckets=16",
        "ipv6.pcap, 'src=[fd00::99]', --engine=embedded",
        "ipv6.pcap, 'src=[fd00::99]', --buckets=16",
    })
    void shouldTranslateAsOvsVswitchdDid(final String name, final String nat, final String engine) throws Exception
    {
        final Path dir = ReplayEnginesTest.differential();
        final ReplayCommandTest.Result result = run("replay", dir.resolve(name).toString(), "--nat", nat, "--dump",
            engine);
        assertEquals(0, result.exitCode(), result.err());

        final List<String> table = result.out().lines().filter(l -> !l.matches("\\d+: .*"))
            .map(l -> l.replaceAll("10\\.9\\.0\\.[12]", "10.9.0.X")).sorted().toList();
        assertEquals(Files.readAllLines(dir.resolve("expected").resolve(name + ".snat.dump.txt")), table);
    }

    @ParameterizedTest(name = "{0} --nat {1} {3}")
    @CsvSource({
        "ipv4.pcap, src=10.9.0.1, nat-src, --engine=embedded",
        "ipv4.pcap, src=10.9.0.1, nat-src, --buckets=16",
        "ipv4.pcap, dst=10.9.9.9:80, nat-dst, --engine=embedded",
        "ipv4.pcap, dst=10.9.9.9:80, nat-dst, --buckets=16",
        "extras-ipv4.pcap, src=10.9.0.1, nat-src, --buckets=1",
        "ipv6.pcap, 'src=[fd00::99]', nat-src, --engine=embedded",
        "ipv6.pcap, 'src=[fd00::99]', nat-src, --buckets=16",
        "extras-ipv6.pcap, 'dst=[fd00::98]', nat-dst, --buckets=16",
    })
    void shouldGiveEveryPacketOpenVswitchsVerdictUnderNat(final String name, final String nat, final String expected,
        final String engine) throws Exception
    {
        final Path dir = ReplayEnginesTest.differential();
        final ReplayCommandTest.Result result = run("replay", dir.resolve(name).toString(), "--nat", nat, engine);
        assertEquals(0, result.exitCode(), result.err());
        final Path file = dir.resolve("expected").resolve(name + "." + expected + ".ovs.txt");
        assertEquals(Files.readString(file), result.out());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = { "--engine=embedded", "--buckets=16" })
    void shouldRewriteEveryPacketAsOpenVswitchDid(final String engine, @TempDir final Path tmp) throws Exception
    {
        final Path dir = ReplayEnginesTest.differential();
        final Path written = tmp.resolve("rewritten.pcap");
        final ReplayCommandTest.Result result = run("replay", dir.resolve("ipv4.pcap").toString(), "--nat",
            "src=10.9.0.1", "--write", written.toString(), engine);
        assertEquals(0, result.exitCode(), result.err());
        // Frames only: Open vSwitch stamps what it writes with the wall clock, ctrack with the capture's times.
        final List<String> expected = frames(dir.resolve("expected").resolve("ipv4.pcap.nat-src.rewritten.pcap"));
        assertEquals(1013, expected.size());
        assertEquals(expected, frames(written));
    }

    private static List<String> frames(final Path pcap) throws Exception
    {
        final List<String> frames = new ArrayList<>();
        try (PcapReader reader = PcapReader.open(pcap))
        {
            reader.validate();
            while (reader.next())
            {
                final byte[] frame = new byte[reader.frameLength()];
                reader.buffer().getBytes(reader.frameOffset(), frame);
                frames.add(HexFormat.of().formatHex(frame));
            }
        }
        return frames;
    }
}
