package org.promptdas.core.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import javax.imageio.stream.ImageInputStreamImpl;

/**
 * An ImageIO input stream over a {@link SeekableByteChannel}, so that ImageIO decoders seek in the
 * file (a Hadoop stream, a local file) instead of caching it: reading page 300 of a TIFF stack
 * touches only the IFD chain and that page. Not thread-safe.
 */
final class ChannelImageInputStream extends ImageInputStreamImpl {
  private final SeekableByteChannel channel;
  private final ByteBuffer one = ByteBuffer.allocate(1);

  ChannelImageInputStream(SeekableByteChannel channel) {
    this.channel = channel;
  }

  @Override
  public int read() throws IOException {
    checkClosed();
    bitOffset = 0;
    one.clear();
    int n;
    do {
      n = channel.read(one);
    } while (n == 0);
    if (n < 0) {
      return -1;
    }
    streamPos++;
    return one.get(0) & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    checkClosed();
    bitOffset = 0;
    if (len == 0) {
      return 0;
    }
    ByteBuffer buf = ByteBuffer.wrap(b, off, len);
    int n;
    do {
      n = channel.read(buf);
    } while (n == 0);
    if (n > 0) {
      streamPos += n;
    }
    return n;
  }

  @Override
  public void seek(long pos) throws IOException {
    super.seek(pos);
    channel.position(pos);
  }

  @Override
  public long length() {
    try {
      return channel.size();
    } catch (IOException e) {
      return -1;
    }
  }

  @Override
  public void close() throws IOException {
    super.close();
    channel.close();
  }
}
