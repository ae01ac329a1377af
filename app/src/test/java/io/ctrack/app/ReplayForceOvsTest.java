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
 * {@code ct(commit,force)} packet by packet against Open vSwitch's {@code test-conntrack pcap} executing every batch
 * with force ({@code testdata/differential/expected/FILE.force.ovs.txt}, {@code FILE.force-nat-src.ovs.txt} with
 * source NAT too; the harness mended as that directory's README says), on every engine.
 */
@Timeout(60)
class ReplayForceOvsTest
{
    @ParameterizedTest(name = "{0} batch {1} {3} {2}")
    @CsvSource({
        "mixed.pcap, 1, force, --engine=embedded, ''",
        "mixed.pcap, 1, force, --buckets=16, ''",
        "mixed.pcap, 32, force, --buckets=1, ''",
        "mixed.pcap, 32, force, --buckets=16, ''",
        "ipv4.pcap, 1, force-nat-src, --engine=embedded, --nat=src=10.9.0.1",
        "ipv4.pcap, 1, force-nat-src, --buckets=16, --nat=src=10.9.0.1",
    })
    void shouldGiveEveryPacketOpenVswitchsVerdictWithForce(final String name, final int batch, final String expected,
        final String engine, final String nat) throws Exception
    {
        final Path dir = ReplayEnginesTest.differential();
        final List<String> args = new ArrayList<>(List.of("replay", dir.resolve(name).toString(), "--force", "--batch",
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

    @Test
    void shouldChangeVerdictsOfTheCapture()
    {
        // The force outputs must differ from the plain ones, or the test above would not be testing force.
        final Path dir = ReplayEnginesTest.differential();
        final ReplayCommandTest.Result plain = run("replay", dir.resolve("mixed.pcap").toString(), "--engine=embedded");
        final ReplayCommandTest.Result forced = run("replay", dir.resolve("mixed.pcap").toString(), "--engine=embedded",
            "--force");
        assertEquals(0, plain.exitCode(), plain.err());
        assertEquals(0, forced.exitCode(), forced.err());
        assertNotEquals(plain.out(), forced.out());
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
