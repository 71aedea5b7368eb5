# Sourced by the real-data scripts. link_slices SRC DEST EVERY: links every EVERY-th slice of
# SRC/img and its label (same stem, any extension) in SRC/lab into DEST/img and DEST/lab; nothing
# is copied, and DEST appears only once complete (an existing DEST is kept).
link_slices() {
  local src=$1 dest=$2 every=$3 i=0 f n
  [ -d "$dest" ] && return 0
  rm -rf "$dest.partial"
  mkdir -p "$dest.partial/img" "$dest.partial/lab"
  for f in "$src"/img/*; do
    if [ $((i % every)) -eq 0 ]; then
      n=$(basename "$f")
      ln -s "$f" "$dest.partial/img/$n"
      ln -s "$(ls "$src"/lab/"${n%.*}".* | head -n 1)" "$dest.partial/lab/"
    fi
    i=$((i + 1))
  done
  mv "$dest.partial" "$dest"
}
