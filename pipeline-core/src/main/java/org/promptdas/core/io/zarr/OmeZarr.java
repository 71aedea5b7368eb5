package org.promptdas.core.io.zarr;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.promptdas.core.PromptDasException.BadInput;

/**
 * OME-Zarr (NGFF 0.4) images: a Zarr group whose {@code .zattrs} lists its resolution levels in
 * {@code multiscales[0].datasets}, each a Zarr array. Resolves which array a user means and
 * creates single-level images (z, y, x) that napari and neuroglancer open. Stateless and
 * thread-safe.
 */
public final class OmeZarr {
  private static final ObjectMapper JSON = new ObjectMapper();

  private OmeZarr() {}

  /**
   * The array a store holds: itself when it is an array; for an OME-Zarr image, the level at
   * {@code dataset} (its path, e.g. "1"), or the first (full-resolution) level when null.
   */
  public static ZarrArray array(KeyValueStore store, String dataset) {
    String ds = dataset == null ? null : dataset.replaceAll("^/+|/+$", "");
    if (store.has(".zarray")) {
      if (ds != null && !ds.isEmpty()) {
        throw new BadInput(store.describe() + ": is a Zarr array, not a group with a level '" + ds + "'");
      }
      return ZarrArray.open(store, "");
    }
    byte[] attrs = store.get(".zattrs");
    if (attrs == null) {
      if (ds != null && store.has(ds + "/.zarray")) {
        return ZarrArray.open(store, ds);
      }
      throw new BadInput(store.describe() + ": neither a Zarr array (.zarray) nor an OME-Zarr image (.zattrs)");
    }
    JsonNode levels;
    try {
      levels = JSON.readTree(attrs).path("multiscales").path(0).path("datasets");
    } catch (IOException e) {
      throw new BadInput(store.describe() + "/.zattrs: not valid JSON (" + e.getMessage() + ")");
    }
    if (!levels.isArray() || levels.isEmpty()) {
      throw new BadInput(store.describe() + ": .zattrs lists no multiscales datasets (not an OME-Zarr image)");
    }
    if (ds == null || ds.isEmpty()) {
      return ZarrArray.open(store, levels.get(0).path("path").asText());
    }
    for (JsonNode l : levels) {
      if (l.path("path").asText().equals(ds)) {
        return ZarrArray.open(store, ds);
      }
    }
    throw new BadInput(store.describe() + ": has no level '" + ds + "' (levels: " + levels.findValuesAsText("path") + ")");
  }

  /**
   * Creates a one-level OME-Zarr 0.4 uint8 image of {@code depth} planes of {@code height} x
   * {@code width}, chunked (1, chunk, chunk): its group, multiscales metadata and array "0".
   */
  public static ZarrArray createImage(KeyValueStore store, String name, int depth, int height, int width,
      int chunk, Codec codec) {
    store.put(".zgroup", "{\n  \"zarr_format\": 2\n}\n".getBytes(StandardCharsets.UTF_8));
    String attrs = "{\n  \"multiscales\": [{\n    \"version\": \"0.4\",\n    \"name\": \"" + name.replace("\"", "")
        + "\",\n    \"axes\": [{\"name\": \"z\", \"type\": \"space\"}, {\"name\": \"y\", \"type\": \"space\"}, "
        + "{\"name\": \"x\", \"type\": \"space\"}],\n    \"datasets\": [{\"path\": \"0\", \"coordinateTransformations\": "
        + "[{\"type\": \"scale\", \"scale\": [1.0, 1.0, 1.0]}]}]\n  }]\n}\n";
    store.put(".zattrs", attrs.getBytes(StandardCharsets.UTF_8));
    return ZarrArray.create(store, "0", new long[] {depth, height, width},
        new int[] {1, Math.min(chunk, height), Math.min(chunk, width)}, codec);
  }
}
