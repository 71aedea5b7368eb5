package org.promptdas.jobs.fs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.SeekableByteChannel;
import org.apache.hadoop.fs.FSDataInputStream;

/**
 * A read-only seekable channel over a Hadoop input stream, so the core readers can seek inside a
 * TIFF stack or HDF5 volume on HDFS or S3 and read one slice without fetching the file. Not
 * thread-safe.
 */
final class HadoopChannel implements SeekableByteChannel {
  private final FSDataInputStream in;
  private final long size;
  private boolean open = true;

  HadoopChannel(FSDataInputStream in, long size) {
    this.in = in;
    this.size = size;
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    if (in.getPos() >= size) {
      return -1;
    }
    int want = (int) Math.min(dst.remaining(), size - in.getPos());
    byte[] buf = dst.hasArray() ? dst.array() : new byte[want];
    int off = dst.hasArray() ? dst.arrayOffset() + dst.position() : 0;
    int n = in.read(buf, off, want);
    if (n > 0) {
      if (dst.hasArray()) {
        dst.position(dst.position() + n);
      } else {
        dst.put(buf, 0, n);
      }
    }
    return n;
  }

  @Override
  public long position() throws IOException {
    return in.getPos();
  }

  @Override
  public SeekableByteChannel position(long p) throws IOException {
    in.seek(Math.min(p, size));
    return this;
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public int write(ByteBuffer src) {
    throw new NonWritableChannelException();
  }

  @Override
  public SeekableByteChannel truncate(long s) {
    throw new NonWritableChannelException();
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  @Override
  public void close() throws IOException {
    open = false;
    in.close();
  }
}
