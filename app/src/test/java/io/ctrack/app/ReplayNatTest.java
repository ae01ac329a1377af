package io.ctrack.app;

import io.ctrack.engine.packet.FrameWriter;
import io.ctrack.engine.pcap.PcapReader;
import io.ctrack.engine.pcap.PcapWriter;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.ctrack.app.ReplayCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code replay --nat --write}: a capture of clients talking to a server through source NAT, with the server's
 * answers addressed to the translated tuples; the written capture must hold the translated packets with correct
 * checksums (checked here by an independent computation, and by tshark when it is installed).
 */
@Timeout(120)
class ReplayNatTest
{
    private static final int CLIENTS = 20;
    private static final int SERVER = FrameWriter.ipv4Address(10, 0, 1, 1);
    private static final int NAT = FrameWriter.ipv4Address(192, 168, 99, 1);

    private static int client(final int i)
    {
        return FrameWriter.ipv4Address(10, 0, 0, 1 + i);
    }

    /** Per client: a UDP query, the server's answer to the translated tuple, an ICMP error quoting that answer. */
    private static Path capture(final Path dir) throws IOException
    {
        final Path pcap = dir.resolve("clients.pcap");
        final UnsafeBuffer b = new UnsafeBuffer(new byte[2048]);
        final UnsafeBuffer quoted = new UnsafeBuffer(new byte[2048]);
        try (PcapWriter writer = new PcapWriter(pcap, false))
        {
            long t = 1_700_000_000_000_000_000L;
            for (int i = 0; i < CLIENTS; i++)
            {
                int n = FrameWriter.udp4(b, 0, client(i), 4000 + i, SERVER, 53, 20, true);
                writer.write(t += 1000, b, 0, n, n);
                n = FrameWriter.udp4(b, 0, SERVER, 53, NAT, 4000 + i, 30, true);
                writer.write(t += 1000, b, 0, n, n);
                // The client side's stack refuses a late answer: its ICMP error quotes the answer as it arrived
                // there (already untranslated), and goes back through the NAT as the original direction's error.
                final int q = FrameWriter.udp4(quoted, 0, SERVER, 53, client(i), 4000 + i, 30, true);
                n = FrameWriter.icmp4Error(b, 0, client(i), SERVER, 3, 3, quoted, 0, 8);
                writer.write(t += 1000, b, 0, n, n);
                assertTrue(q > 0);
            }
        }
        return pcap;
    }

    @Test
    void shouldTranslateRepliesAndErrorsAndWriteValidPackets(@TempDir final Path dir) throws Exception
    {
        final Path in = capture(dir);
        final List<String> outputs = new ArrayList<>();
        final List<byte[]> written = new ArrayList<>();
        for (final String engine : List.of("sharded", "embedded"))
        {
            final Path out = dir.resolve(engine + ".pcap");
            // Batch 1: a capture holds each answer right after its query, and a query's translation must be complete
            // before its answer is tracked (on the wire the answer cannot come before the translated query left).
            final ReplayCommandTest.Result result = run("replay", in.toString(), "--nat", "src=192.168.99.1",
                "--write", out.toString(), "--engine", engine, "--batch", "1");
            assertEquals(0, result.exitCode(), result.err());
            outputs.add(result.out());
            written.add(Files.readAllBytes(out));
            final List<String> lines = result.out().lines().toList();
            for (int i = 0; i < CLIENTS; i++)
            {
                assertEquals((3 * i + 1) + ": new|trk|snat", lines.get(3 * i));
                assertEquals((3 * i + 2) + ": est|rpl|trk|dnat", lines.get(3 * i + 1));
                assertEquals((3 * i + 3) + ": rel|trk|snat", lines.get(3 * i + 2));
            }
            checkWritten(out);
        }
        assertEquals(outputs.get(0), outputs.get(1), "both engines answer alike");
        assertArrayEquals(written.get(0), written.get(1), "both engines rewrite alike");
    }

    private static void checkWritten(final Path out) throws Exception
    {
        try (PcapReader reader = PcapReader.open(out))
        {
            reader.validate();
            int frame = 0;
            while (reader.next())
            {
                final byte[] f = new byte[reader.frameLength()];
                reader.buffer().getBytes(reader.frameOffset(), f);
                final int i = frame / 3;
                switch (frame % 3)
                {
                    case 0:
                        assertEquals(NAT, u32(f, 26), "query " + i + " leaves from the NAT address");
                        assertEquals(4000 + i, u16(f, 34), "with its own port (free)");
                        break;
                    case 1:
                        assertEquals(client(i), u32(f, 30), "answer " + i + " goes to its client");
                        assertEquals(4000 + i, u16(f, 36));
                        break;
                    default:
                        assertEquals(NAT, u32(f, 26), "error " + i + " leaves from the NAT address");
                        assertEquals(NAT, u32(f, 42 + 16), "its quote names the NAT address as destination");
                        assertEquals(0, checksum(f, 42, 20, 0), "quoted IPv4 header checksum");
                        break;
                }
                assertChecksums(f);
                frame++;
            }
            assertEquals(3 * CLIENTS, frame);
        }
    }

    @Test
    void shouldPassTsharkChecksumValidation(@TempDir final Path dir) throws Exception
    {
        assumeTrue(tsharkAvailable(), "tshark is not installed: skipping the tshark spot check");
        final Path out = dir.resolve("out.pcap");
        assertEquals(0, run("replay", capture(dir).toString(), "--nat", "src=192.168.99.1", "--write", out.toString())
            .exitCode());
        final Process p = new ProcessBuilder("tshark", "-r", out.toString(), "-o", "ip.check_checksum:TRUE",
            "-o", "udp.check_checksum:TRUE", "-T", "fields", "-e", "ip.checksum.status", "-e", "udp.checksum.status",
            "-e", "icmp.checksum.status").redirectErrorStream(false).start();
        final String fields = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        final List<String> lines = fields.lines().toList();
        assertEquals(3 * CLIENTS, lines.size(), fields);
        for (final String line : lines)
        {
            // Wireshark's checksum status: 0 bad, 1 good, 2 unverified (a quoted, truncated UDP header); none bad.
            for (final String status : line.split("[\\t,]"))
            {
                assertTrue(!status.equals("0"), "tshark found a bad checksum: " + line);
            }
            assertTrue(line.startsWith("1\t") || line.startsWith("1,1\t"), "IP checksums verified good: " + line);
        }
    }

    private static boolean tsharkAvailable()
    {
        try
        {
            final Process p = new ProcessBuilder("tshark", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        }
        catch (final IOException | InterruptedException ex)
        {
            return false;
        }
    }

    /** IPv4 header, UDP (with pseudo-header) and ICMP checksums of an untagged IPv4 frame, computed from scratch. */
    private static void assertChecksums(final byte[] f)
    {
        final int ihl = (f[14] & 0x0F) * 4;
        assertEquals(0, checksum(f, 14, ihl, 0), "IPv4 header checksum");
        final int l4 = 14 + ihl;
        final int l4Length = u16(f, 16) - ihl;
        final int proto = f[23] & 0xFF;
        if (proto == 17)
        {
            final long pseudo = u16(f, 26) + u16(f, 28) + u16(f, 30) + u16(f, 32) + 17 + l4Length;
            assertEquals(0, checksum(f, l4, l4Length, pseudo), "UDP checksum");
        }
        else if (proto == 1)
        {
            assertEquals(0, checksum(f, l4, l4Length, 0), "ICMP checksum");
        }
    }

    private static int checksum(final byte[] b, final int offset, final int length, final long initial)
    {
        long sum = initial;
        for (int i = offset; i < offset + length; i += 2)
        {
            sum += ((b[i] & 0xFF) << 8) | (i + 1 < offset + length ? b[i + 1] & 0xFF : 0);
        }
        while ((sum >>> 16) != 0)
        {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int)(~sum & 0xFFFF);
    }

    private static int u16(final byte[] f, final int at)
    {
        return (f[at] & 0xFF) << 8 | (f[at + 1] & 0xFF);
    }

    private static int u32(final byte[] f, final int at)
    {
        return u16(f, at) << 16 | u16(f, at + 2);
    }
}
