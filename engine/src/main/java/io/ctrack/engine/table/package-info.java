/**
 * One bucket's connections: {@link io.ctrack.engine.table.ConnTable}, an open-addressing index over
 * primitive arrays pointing into per-family entry stores, with a zone index (list and flush a zone without
 * walking others) and an expiry wheel (find expired connections without walking live ones). Single-threaded:
 * exactly one thread (the bucket's owner) may touch a table.
 */
package io.ctrack.engine.table;
