#include "vectorize/rtree_bulk_load.hpp"

#include <segearth/error.hpp>

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace segearth::geo {

namespace {

// SQLite's R-tree stores each coordinate as a float32 rounded outwards, so that the stored box
// holds the true one; these are its own rounding rules (rtree.c), so both fills store equal boxes.
constexpr double round_towards_zero = 1.0 - 1.0 / 8388608.0;
constexpr double round_away_from_zero = 1.0 + 1.0 / 8388608.0;

float rounded_down(double d) {
    float f = static_cast<float>(d);
    if (f > d) f = static_cast<float>(d * (d < 0 ? round_away_from_zero : round_towards_zero));
    return f;
}

float rounded_up(double d) {
    float f = static_cast<float>(d);
    if (f < d) f = static_cast<float>(d * (d < 0 ? round_towards_zero : round_away_from_zero));
    return f;
}

// A node's blob: a 2-byte tree depth (read at the root only), a 2-byte cell count, then cells of an
// 8-byte id and four float32 coordinates, all big-endian.
constexpr size_t header_bytes = 4, cell_bytes = 8 + 4 * 4;

void put_big_endian(uint8_t* at, uint64_t value, int bytes) {
    for (int i = bytes - 1; i >= 0; --i, value >>= 8) at[i] = static_cast<uint8_t>(value & 0xff);
}

void put_float(uint8_t* at, float value) {
    uint32_t bits = 0;
    std::memcpy(&bits, &value, sizeof bits);
    put_big_endian(at, bits, 4);
}

std::string quoted(const std::string& name) {
    std::string out = "\"";
    for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

class Database {
public:
    explicit Database(std::string path) : path_(std::move(path)) {
        if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK)
            fail("open");
    }
    ~Database() {
        if (in_transaction_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        sqlite3_close_v2(db_);
    }
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    [[noreturn]] void fail(const std::string& what) const {
        throw FileError(path_ + ": cannot " + what + " its spatial index: " +
                        (db_ ? sqlite3_errmsg(db_) : "out of memory"));
    }
    void exec(const std::string& sql, const std::string& what) {
        if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) fail(what);
    }
    void begin() {
        exec("BEGIN IMMEDIATE", "lock the file to write");
        in_transaction_ = true;
    }
    void commit() {
        exec("COMMIT", "commit");
        in_transaction_ = false;
    }
    sqlite3* get() const { return db_; }

private:
    std::string path_;
    sqlite3* db_ = nullptr;
    bool in_transaction_ = false;
};

class Statement {
public:
    Statement(Database& db, const std::string& sql) : db_(db) {
        if (sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &statement_, nullptr) != SQLITE_OK) db.fail("read");
    }
    ~Statement() { sqlite3_finalize(statement_); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    int64_t single_integer() {
        if (sqlite3_step(statement_) != SQLITE_ROW) db_.fail("read");
        return sqlite3_column_int64(statement_, 0);
    }
    void insert(int64_t key, int64_t value) {
        sqlite3_bind_int64(statement_, 1, key);
        sqlite3_bind_int64(statement_, 2, value);
        step();
    }
    void insert(int64_t key, const std::vector<uint8_t>& blob) {
        sqlite3_bind_int64(statement_, 1, key);
        sqlite3_bind_blob(statement_, 2, blob.data(), static_cast<int>(blob.size()), SQLITE_STATIC);
        step();
    }

private:
    void step() {
        if (sqlite3_step(statement_) != SQLITE_DONE) db_.fail("write");
        sqlite3_reset(statement_);
    }
    Database& db_;
    sqlite3_stmt* statement_ = nullptr;
};

double center_x(const RtreeEntry& e) { return 0.5 * (double(e.min_x) + e.max_x); }
double center_y(const RtreeEntry& e) { return 0.5 * (double(e.min_y) + e.max_y); }

// Sort-tile-recursive packing of one level: orders `cells` so that consecutive runs of at most
// `per_node` (full but for the last of each slice) are nodes whose boxes overlap little; returns
// each node's first cell, then cells.size().
std::vector<size_t> pack(std::vector<RtreeEntry>& cells, size_t per_node) {
    const size_t n = cells.size();
    const size_t nodes = (n + per_node - 1) / per_node;
    const auto slices = static_cast<size_t>(std::ceil(std::sqrt(static_cast<double>(nodes))));
    const size_t slice_cells = (nodes + slices - 1) / slices * per_node;
    std::sort(cells.begin(), cells.end(), [](const auto& a, const auto& b) { return center_x(a) < center_x(b); });
    std::vector<size_t> starts;
    for (size_t slice = 0; slice < n; slice += slice_cells) {
        const size_t end = std::min(n, slice + slice_cells);
        std::sort(cells.begin() + slice, cells.begin() + end,
                  [](const auto& a, const auto& b) { return center_y(a) < center_y(b); });
        for (size_t first = slice; first < end; first += per_node) starts.push_back(first);
    }
    starts.push_back(n);
    return starts;
}

}  // namespace

RtreeEntry rtree_entry(int64_t id, double min_x, double max_x, double min_y, double max_y) {
    return {id, rounded_down(min_x), rounded_up(max_x), rounded_down(min_y), rounded_up(max_y)};
}

void bulk_load_rtree(const std::string& path, const std::string& rtree, std::vector<RtreeEntry> entries,
                     const std::string& then_sql) {
    Database db(path);
    db.begin();
    const std::string nodes_table = quoted(rtree + "_node"), rowid_table = quoted(rtree + "_rowid"),
                      parent_table = quoted(rtree + "_parent");
    // SQLite chose the node size when it made the (empty) root: it reads it back from there.
    const auto node_bytes = static_cast<size_t>(
        Statement(db, "SELECT length(data) FROM " + nodes_table + " WHERE nodeno = 1").single_integer());
    const size_t per_node = node_bytes > header_bytes ? (node_bytes - header_bytes) / cell_bytes : 0;
    if (per_node < 2) throw FileError(path + ": its spatial index " + rtree + " has an unexpected node size");
    if (Statement(db, "SELECT count(*) FROM " + rowid_table).single_integer() != 0 ||
        Statement(db, "SELECT count(*) FROM " + nodes_table).single_integer() != 1)
        throw FileError(path + ": its spatial index " + rtree + " is not empty; it cannot be filled in one pass");

    if (!entries.empty()) {
        // levels[0]: the polygons; levels[l > 0]: one cell per node of level l - 1 (its id: that
        // node's index there). The top level is one node, the root.
        std::vector<std::vector<RtreeEntry>> levels;
        std::vector<std::vector<size_t>> node_starts;
        levels.push_back(std::move(entries));
        for (;;) {
            node_starts.push_back(pack(levels.back(), per_node));
            const auto& cells = levels.back();
            const auto& starts = node_starts.back();
            if (starts.size() == 2) break;
            std::vector<RtreeEntry> up(starts.size() - 1);
            for (size_t i = 0; i + 1 < starts.size(); ++i) {
                RtreeEntry box{static_cast<int64_t>(i), cells[starts[i]].min_x, cells[starts[i]].max_x,
                               cells[starts[i]].min_y, cells[starts[i]].max_y};
                for (size_t c = starts[i] + 1; c < starts[i + 1]; ++c) {
                    box.min_x = std::min(box.min_x, cells[c].min_x), box.max_x = std::max(box.max_x, cells[c].max_x);
                    box.min_y = std::min(box.min_y, cells[c].min_y), box.max_y = std::max(box.max_y, cells[c].max_y);
                }
                up[i] = box;
            }
            levels.push_back(std::move(up));
        }
        // Node numbers from the root (1, as SQLite requires) down, level by level.
        const size_t top = levels.size() - 1;
        std::vector<int64_t> first_number(levels.size());
        first_number[top] = 1;
        for (size_t l = top; l-- > 0;)
            first_number[l] = first_number[l + 1] + static_cast<int64_t>(node_starts[l + 1].size() - 1);

        db.exec("DELETE FROM " + nodes_table, "clear");
        Statement node_insert(db, "INSERT INTO " + nodes_table + "(nodeno, data) VALUES (?, ?)");
        Statement parent_insert(db, "INSERT INTO " + parent_table + "(nodeno, parentnode) VALUES (?, ?)");
        std::vector<uint8_t> blob(node_bytes);
        for (size_t l = top + 1; l-- > 0;) {
            const auto& cells = levels[l];
            const auto& starts = node_starts[l];
            for (size_t i = 0; i + 1 < starts.size(); ++i) {
                const int64_t number = first_number[l] + static_cast<int64_t>(i);
                std::fill(blob.begin(), blob.end(), 0);
                if (l == top) put_big_endian(blob.data(), top, 2);
                put_big_endian(blob.data() + 2, starts[i + 1] - starts[i], 2);
                uint8_t* at = blob.data() + header_bytes;
                for (size_t c = starts[i]; c < starts[i + 1]; ++c, at += cell_bytes) {
                    const auto& cell = cells[c];
                    const int64_t id = l == 0 ? cell.id : first_number[l - 1] + cell.id;
                    put_big_endian(at, static_cast<uint64_t>(id), 8);
                    put_float(at + 8, cell.min_x), put_float(at + 12, cell.max_x);
                    put_float(at + 16, cell.min_y), put_float(at + 20, cell.max_y);
                    if (l > 0) parent_insert.insert(id, number);
                }
                node_insert.insert(number, blob);
            }
        }
        // Every polygon's leaf, inserted in id order (SQLite's B-tree then only appends).
        std::vector<std::pair<int64_t, int64_t>> leaf_of;
        leaf_of.reserve(levels[0].size());
        for (size_t i = 0; i + 1 < node_starts[0].size(); ++i)
            for (size_t c = node_starts[0][i]; c < node_starts[0][i + 1]; ++c)
                leaf_of.emplace_back(levels[0][c].id, first_number[0] + static_cast<int64_t>(i));
        std::sort(leaf_of.begin(), leaf_of.end());
        Statement rowid_insert(db, "INSERT INTO " + rowid_table + "(rowid, nodeno) VALUES (?, ?)");
        for (const auto& [id, leaf] : leaf_of) rowid_insert.insert(id, leaf);
    }
    if (!then_sql.empty()) db.exec(then_sql, "complete");
    db.commit();
}

}  // namespace segearth::geo
