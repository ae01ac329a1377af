/**
 * Multi-node tests: several ctrack nodes as separate JVMs on 127.0.0.1, each test under a timeout.
 */
package io.ctrack.cluster;
