package org.promptdas.jobs.fs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import org.promptdas.core.io.ImageReaders;
import org.promptdas.core.io.VolumeReader;
import org.promptdas.core.io.ZarrVolumeReader;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.Predicate;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.ChecksumFileSystem;
import org.apache.hadoop.fs.FSError;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.promptdas.core.PromptDasException;
import org.promptdas.core.PromptDasException.BadInput;

/**
 * File access on any Hadoop file system ({@code file:}, {@code hdfs:}, {@code s3a:}, plain local
 * paths) with the project's error policy: a missing or unreadable file is a {@link BadInput} that
 * names it. Serializable, so tasks can carry it; thread-safe (Hadoop caches file systems).
 */
public final class HadoopFiles implements Serializable {
  private static final long serialVersionUID = 1L;
  private final HadoopConf conf;
  private final long maxSlicePixels;

  /** Files whose slices may hold as many pixels as {@link ImageReaders#automaticPixelLimit} allows. */
  public HadoopFiles(HadoopConf conf) {
    this(conf, 0);
  }

  /**
   * @param maxSlicePixels the most pixels a slice's header may claim ({@link #openVolume}), 0 for
   *     the limit that fits the heap of the JVM that reads (an executor's, in a task)
   */
  public HadoopFiles(HadoopConf conf, long maxSlicePixels) {
    this.conf = conf;
    this.maxSlicePixels = maxSlicePixels;
  }

  /**
   * The file system of {@code p}. Client-side checksum sidecars ({@code .name.crc}) are not used:
   * outputs are meant for people and other tools, HDFS keeps its own block checksums, and a
   * sidecar's name breaks on a colon in the file's.
   */
  public FileSystem fs(Path p) {
    try {
      FileSystem fs = p.getFileSystem(conf.get());
      return fs instanceof ChecksumFileSystem c ? c.getRawFileSystem() : fs;
    } catch (IOException e) {
      throw new BadInput(p + ": no file system for this path (" + e.getMessage() + ")", e);
    }
  }

  public boolean exists(Path p) {
    try {
      return fs(p).exists(p);
    } catch (IOException e) {
      throw new BadInput(p + ": cannot be checked (" + e.getMessage() + ")", e);
    }
  }

  public boolean isDirectory(Path p) {
    try {
      return fs(p).getFileStatus(p).isDirectory();
    } catch (FileNotFoundException e) {
      return false;
    } catch (IOException e) {
      throw new BadInput(p + ": cannot be checked (" + e.getMessage() + ")", e);
    }
  }

  /** Files (not folders, not hidden) directly in {@code dir} whose names pass, sorted by name. */
  public List<Path> list(Path dir, Predicate<String> nameFilter) {
    FileStatus[] st;
    try {
      st = fs(dir).listStatus(dir);
    } catch (FileNotFoundException e) {
      throw new BadInput(dir + ": no such folder");
    } catch (IOException e) {
      throw new BadInput(dir + ": cannot be listed (" + e.getMessage() + ")", e);
    }
    List<Path> out = new ArrayList<>();
    Arrays.sort(st, Comparator.comparing(s -> s.getPath().getName()));
    for (FileStatus s : st) {
      String n = s.getPath().getName();
      if (s.isFile() && !n.startsWith(".") && !n.startsWith("_") && nameFilter.test(n)) {
        out.add(s.getPath());
      }
    }
    return out;
  }

  /** The names of everything directly in {@code dir} (files and folders, hidden ones included). */
  public List<String> listNames(Path dir) {
    try {
      List<String> out = new ArrayList<>();
      for (FileStatus s : fs(dir).listStatus(dir)) {
        out.add(s.getPath().getName());
      }
      return out;
    } catch (FileNotFoundException e) {
      return List.of();
    } catch (IOException e) {
      throw new BadInput(dir + ": cannot be listed (" + e.getMessage() + ")", e);
    }
  }

  public byte[] read(Path p) {
    try (InputStream in = fs(p).open(p)) {
      return in.readAllBytes();
    } catch (FileNotFoundException e) {
      throw new BadInput(p + ": no such file");
    } catch (IOException e) {
      throw new BadInput(p + ": cannot be read (" + e.getMessage() + ")", e);
    }
  }

  /**
   * Opens an image, stack or volume for slice-by-slice reading (only headers are read until a
   * slice is asked for; a slice larger than the limit is refused then); the caller closes the
   * reader.
   */
  public VolumeReader openVolume(Path p, String hdf5Dataset) {
    long limit = maxSlicePixels > 0 ? maxSlicePixels : ImageReaders.automaticPixelLimit();
    if (isZarr(p)) {
      return ImageReaders.limited(new ZarrVolumeReader(p.toString(), new HadoopStore(this, p), hdf5Dataset), limit);
    }
    try {
      FileSystem fs = fs(p);
      long size = fs.getFileStatus(p).getLen();
      return ImageReaders.open(p.toString(), new HadoopChannel(fs.open(p), size), hdf5Dataset, limit);
    } catch (FileNotFoundException e) {
      throw new BadInput(p + ": no such file");
    } catch (IOException e) {
      throw new BadInput(p + ": cannot be read (" + e.getMessage() + ")", e);
    }
  }

  /**
   * Writes a whole file (inside an {@link AtomicOutput}'s temporary folder). On any failure, a full
   * disk included, the partial file is deleted and the error names the path.
   */
  public void write(Path p, byte[] bytes) {
    try (OutputStream out = fs(p).create(p, true)) {
      out.write(bytes);
    } catch (IOException | FSError e) {
      deleteQuietly(p);
      Throwable cause = e instanceof FSError && e.getCause() != null ? e.getCause() : e;
      throw new PromptDasException(p + ": cannot be written (" + cause.getMessage() + ")", e);
    }
  }

  private void deleteQuietly(Path p) {
    try {
      fs(p).delete(p, false);
    } catch (IOException | RuntimeException | FSError ignored) {
      // the write failed already; that is the error to report
    }
  }

  /**
   * Deletes the entries of {@code dir} that {@code temporary} accepts and whose writer has ended
   * ({@link TempNames#abandoned}): what killed runs left.
   */
  public void deleteAbandoned(Path dir, Predicate<String> temporary) {
    for (String n : listNames(dir)) {
      if (temporary.test(n) && TempNames.abandoned(n)) {
        delete(child(dir, n));
      }
    }
  }

  /**
   * Creates {@code p} holding {@code text} unless it exists (atomically on HDFS and local disks);
   * returns whether this call created it.
   */
  public boolean createExclusive(Path p, String text) {
    FileSystem fs = fs(p);
    byte[] bytes = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    OutputStream out;
    try {
      if (fs instanceof org.apache.hadoop.fs.RawLocalFileSystem raw) {
        // the JDK's create-new is one system call; Hadoop's local create checks, then creates
        out = java.nio.file.Files.newOutputStream(raw.pathToFile(p).toPath(),
            java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE);
      } else {
        out = fs.create(p, false);
      }
    } catch (java.nio.file.FileAlreadyExistsException | org.apache.hadoop.fs.FileAlreadyExistsException e) {
      return false;
    } catch (IOException e) {
      if (exists(p)) {
        return false;
      }
      throw new PromptDasException(p + ": cannot be created (" + e.getMessage() + ")", e);
    }
    try (out) {
      out.write(bytes);
      return true;
    } catch (IOException e) { // created but not written (a full disk): it is ours, remove it
      try {
        fs.delete(p, false);
      } catch (IOException ignored) {
        // the error to report is e
      }
      throw new PromptDasException(p + ": cannot be written (" + e.getMessage() + ")", e);
    }
  }


  /** True when {@code p} is a folder holding a Zarr array or group ({@code .zarray}, {@code .zattrs}, {@code .zgroup}). */
  public boolean isZarr(Path p) {
    return isDirectory(p) && (exists(new Path(p, ".zarray")) || exists(new Path(p, ".zattrs"))
        || exists(new Path(p, ".zgroup")));
  }

  /** Reads a whole JSON file. */
  public JsonNode readJson(Path p) {
    try {
      return new ObjectMapper().readTree(read(p));
    } catch (IOException e) {
      throw new BadInput(p + ": not readable as JSON (" + e.getMessage() + ")", e);
    }
  }

  /**
   * Writes a whole file under a temporary name beside it and renames it into place, replacing an
   * older file of that name: readers see the old file or the new one, never a part (on HDFS and
   * local disks; between the delete and the rename the name is briefly absent).
   */
  public void writeAtomically(Path target, byte[] bytes) {
    Path tmp = child(target.getParent(), TempNames.of(target.getName()));
    write(tmp, bytes);
    delete(target);
    rename(tmp, target);
  }

  public void mkdirs(Path p) {
    try {
      fs(p).mkdirs(p);
    } catch (IOException e) {
      throw new PromptDasException(p + ": cannot be created (" + e.getMessage() + ")", e);
    }
  }

  public void delete(Path p) {
    try {
      fs(p).delete(p, true);
    } catch (IOException e) {
      throw new PromptDasException(p + ": cannot be deleted (" + e.getMessage() + ")", e);
    }
  }

  public void rename(Path from, Path to) {
    try {
      if (!fs(from).rename(from, to)) {
        throw new PromptDasException("cannot rename " + from + " to " + to);
      }
    } catch (IOException e) {
      throw new PromptDasException("cannot rename " + from + " to " + to + " (" + e.getMessage() + ")", e);
    }
  }

  /**
   * A fully qualified form of a user path (relative local paths become absolute file: URIs). A
   * relative local path with a colon in its first part ({@code a:b/c}), which Hadoop would read as
   * a URI scheme, is taken as the local path it is.
   */
  public Path qualify(String path) {
    Path p;
    try {
      p = new Path(path);
    } catch (IllegalArgumentException e) {
      p = new Path(null, null, path);
    }
    return fs(p).makeQualified(p);
  }

  /**
   * {@code dir}'s descendant at {@code relative} ("mask/NAME.png"), for names that come from data:
   * a colon in a file name is part of the name, not a URI scheme.
   */
  public static Path child(Path dir, String relative) {
    return new Path(dir, new Path(null, null, relative));
  }
}
