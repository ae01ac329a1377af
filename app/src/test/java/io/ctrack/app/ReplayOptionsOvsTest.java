package io.ctrack.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.ctrack.app.ReplayCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Replay options against Open vSwitch's {@code test-conntrack pcap} run the same way (the harness mended as
 * {@code testdata/differential/README.md} says), packet by packet, on every engine: {@code --force}
 * ({@code ct(commit,force)}: {@code expected/FILE.force.ovs.txt}, {@code FILE.force-nat-src.ovs.txt} with source NAT
 * too) and {@code --no-tcp-seq-chk} ({@code dpctl/ct-disable-tcp-seq-chk}: {@code FILE.no-seq-chk.ovs.txt}).
 */
@Timeout(60)
class ReplayOptionsOvsTest
{
    @ParameterizedTest(name = "{0} batch {1} {3} {2}")
    @CsvSource({
        "mixed.pcap, 1, force, --engine=embedded, --force, ''",
        "mixed.pcap, 1, force, --buckets=16, --force, ''",
        "mixed.pcap, 32, force, --buckets=1, --force, ''",
        "mixed.pcap, 32, force, --buckets=16, --force, ''",
        "ipv4.pcap, 1, force-nat-src, --engine=embedded, --force, --nat=src=10.9.0.1",
        "ipv4.pcap, 1, force-nat-src, --buckets=16, --force, --nat=src=10.9.0.1",
        "long-tcp.pcap, 1, no-seq-chk, --engine=embedded, --no-tcp-seq-chk, ''",
        "long-tcp.pcap, 1, no-seq-chk, --buckets=16, --no-tcp-seq-chk, ''",
        "ipv4-mutated.pcap, 32, no-seq-chk, --buckets=4, --no-tcp-seq-chk, ''",
    })
    void shouldGiveEveryPacketOpenVswitchsVerdict(final String name, final int batch, final String expected,
        final String engine, final String option, final String nat) throws Exception
    {
        final Path dir = ReplayEnginesTest.differential();
        final List<String> args = new ArrayList<>(List.of("replay", dir.resolve(name).toString(), option, "--batch",
            Integer.toString(batch), engine));
        if (!nat.isEmpty())
        {
            args.add(nat);
        }
        final ReplayCommandTest.Result result = run(args.toArray(new String[0]));
        assertEquals(0, result.exitCode(), result.err());
        final String suffix = (batch == 1 ? ".ovs" : ".ovs32") + ".txt";
        assertEquals(Files.readString(dir.resolve("expected").resolve(name + "." + expected + suffix)), result.out());
    }

    @ParameterizedTest(name = "{1} changes verdicts of {0}")
    @CsvSource({ "mixed.pcap, --force", "long-tcp.pcap, --no-tcp-seq-chk" })
    void shouldChangeVerdictsOfTheCapture(final String name, final String option)
    {
        // The option's outputs must differ from the plain ones, or the test above would not be testing it.
        final Path pcap = ReplayEnginesTest.differential().resolve(name);
        final ReplayCommandTest.Result plain = run("replay", pcap.toString(), "--engine=embedded");
        final ReplayCommandTest.Result changed = run("replay", pcap.toString(), "--engine=embedded", option);
        assertEquals(0, plain.exitCode(), plain.err());
        assertEquals(0, changed.exitCode(), changed.err());
        assertNotEquals(plain.out(), changed.out());
    }

    @Test
    void shouldRefuseForceWithFlows()
    {
        final Path mixed = ReplayEnginesTest.differential().resolve("mixed.pcap");
        final ReplayCommandTest.Result r = run("replay", mixed.toString(), "--force", "--flows", "firewall");
        assertEquals(2, r.exitCode(), r.out());
        assertTrue(r.err().contains("with --flows the flows' ct actions say it"), r.err());
    }
}
