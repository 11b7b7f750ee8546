// The restricted unpickler behind parse_pytorch_pickle (bentov/io/pytorch_bin.h).
//
// It follows CPython's Lib/pickle.py `_Unpickler` opcode by opcode for the subset a torch.save
// state dict uses (protocols 2-5, as written by pickle.Pickler with torch.serialization's
// persistent_id), and builds plain data only: None, bools, ints, floats, str, bytes, tuples,
// lists, dicts, storages and tensors. Globals are never imported: GLOBAL / STACK_GLOBAL look
// the name up in a fixed table and anything else is refused on the spot. REDUCE accepts only
// the table's callables with the argument shapes torch writes; BUILD only a dict's attribute
// state (OrderedDict._metadata), which is dropped. Values live in an arena owned by the parse,
// so a hostile pickle can neither leak through reference cycles nor recurse on destruction.
#include <cstdio>
#include <cstring>
#include <deque>
#include <limits>
#include <set>
#include <string_view>
#include <unordered_map>

#include "bentov/error.h"
#include "bentov/io/pytorch_bin.h"

namespace bentov::io {

namespace {

enum class Kind : std::uint8_t {
  kNone,
  kBool,
  kInt,
  kFloat,
  kString,
  kBytes,
  kTuple,
  kList,
  kDict,
  kGlobal,
  kStorage,
  kTensor
};

// The kind with its article, for messages ("an int", "a tensor").
const char* kind_name(Kind k) {
  switch (k) {
    case Kind::kNone:
      return "None";
    case Kind::kBool:
      return "a bool";
    case Kind::kInt:
      return "an int";
    case Kind::kFloat:
      return "a float";
    case Kind::kString:
      return "a str";
    case Kind::kBytes:
      return "a bytes object";
    case Kind::kTuple:
      return "a tuple";
    case Kind::kList:
      return "a list";
    case Kind::kDict:
      return "a dict";
    case Kind::kGlobal:
      return "a global";
    case Kind::kStorage:
      return "a storage";
    case Kind::kTensor:
      return "a tensor";
  }
  return "?";
}

enum class Global : std::uint8_t {
  kOrderedDict,       // collections.OrderedDict: REDUCE with () -> empty dict
  kRebuildTensorV2,   // torch._utils._rebuild_tensor_v2(storage, offset, size, stride, rg, hooks[,
                      // md])
  kRebuildTensor,     // torch._utils._rebuild_tensor(storage, offset, size, stride)
  kRebuildParameter,  // torch._utils._rebuild_parameter(tensor, requires_grad, hooks)
  kStorageType,       // torch.FloatStorage, ...: only as the type inside a persistent id
  kDtype,             // torch.float16, ...: an inert value
};

struct AllowedGlobal {
  const char* module;
  const char* name;
  Global global;
  DType dtype;  // kStorageType, kDtype
};

// The only globals a pickle may name. torch.serialization writes storage types as
// `torch.<T>Storage` (TypedStorage._pickle_storage_type) in the persistent id.
constexpr AllowedGlobal kAllowedGlobals[] = {
    {"collections", "OrderedDict", Global::kOrderedDict, DType::kF32},
    {"torch._utils", "_rebuild_tensor_v2", Global::kRebuildTensorV2, DType::kF32},
    {"torch._utils", "_rebuild_tensor", Global::kRebuildTensor, DType::kF32},
    {"torch._utils", "_rebuild_parameter", Global::kRebuildParameter, DType::kF32},
    {"torch", "DoubleStorage", Global::kStorageType, DType::kF64},
    {"torch", "FloatStorage", Global::kStorageType, DType::kF32},
    {"torch", "HalfStorage", Global::kStorageType, DType::kF16},
    {"torch", "BFloat16Storage", Global::kStorageType, DType::kBF16},
    {"torch", "LongStorage", Global::kStorageType, DType::kI64},
    {"torch", "IntStorage", Global::kStorageType, DType::kI32},
    {"torch", "ShortStorage", Global::kStorageType, DType::kI16},
    {"torch", "CharStorage", Global::kStorageType, DType::kI8},
    {"torch", "ByteStorage", Global::kStorageType, DType::kU8},
    {"torch", "BoolStorage", Global::kStorageType, DType::kBool},
    {"torch", "UntypedStorage", Global::kStorageType, DType::kU8},
    {"torch", "float64", Global::kDtype, DType::kF64},
    {"torch", "float32", Global::kDtype, DType::kF32},
    {"torch", "float16", Global::kDtype, DType::kF16},
    {"torch", "bfloat16", Global::kDtype, DType::kBF16},
    {"torch", "int64", Global::kDtype, DType::kI64},
    {"torch", "int32", Global::kDtype, DType::kI32},
    {"torch", "int16", Global::kDtype, DType::kI16},
    {"torch", "int8", Global::kDtype, DType::kI8},
    {"torch", "uint8", Global::kDtype, DType::kU8},
    {"torch", "bool", Global::kDtype, DType::kBool},
};

struct Value {
  Kind kind = Kind::kNone;
  std::int64_t i = 0;  // kBool, kInt; kStorage / kTensor: index into the side tables
  double f = 0;        // kFloat
  const AllowedGlobal* global = nullptr;  // kGlobal
  std::string s;                          // kString, kBytes
  std::vector<Value*> items;              // kTuple, kList; kDict: key0, value0, key1, value1, ...
};

struct Storage {
  std::string key;
  DType dtype;
  std::uint64_t numel;
};

struct RawTensor {
  std::size_t storage;
  std::int64_t offset;
  std::vector<std::int64_t> shape;
  std::vector<std::int64_t> stride;
  bool has_metadata;  // _rebuild_tensor_v2's optional 7th argument was a non-empty dict
};

// Opcode names for messages (Lib/pickletools.py).
// clang-format off
const char* opcode_name(std::uint8_t op) {
  switch (op) {
    case '(': return "MARK";          case '.': return "STOP";          case '0': return "POP";
    case '1': return "POP_MARK";      case '2': return "DUP";           case 'F': return "FLOAT";
    case 'I': return "INT";           case 'J': return "BININT";        case 'K': return "BININT1";
    case 'L': return "LONG";          case 'M': return "BININT2";       case 'N': return "NONE";
    case 'P': return "PERSID";        case 'Q': return "BINPERSID";     case 'R': return "REDUCE";
    case 'S': return "STRING";        case 'T': return "BINSTRING";     case 'U': return "SHORT_BINSTRING";
    case 'V': return "UNICODE";       case 'X': return "BINUNICODE";    case 'a': return "APPEND";
    case 'b': return "BUILD";         case 'c': return "GLOBAL";        case 'd': return "DICT";
    case '}': return "EMPTY_DICT";    case 'e': return "APPENDS";       case 'g': return "GET";
    case 'h': return "BINGET";        case 'i': return "INST";          case 'j': return "LONG_BINGET";
    case 'l': return "LIST";          case ']': return "EMPTY_LIST";    case 'o': return "OBJ";
    case 'p': return "PUT";           case 'q': return "BINPUT";        case 'r': return "LONG_BINPUT";
    case 's': return "SETITEM";       case 't': return "TUPLE";         case ')': return "EMPTY_TUPLE";
    case 'u': return "SETITEMS";      case 'G': return "BINFLOAT";      case 'B': return "BINBYTES";
    case 'C': return "SHORT_BINBYTES";
    case 0x80: return "PROTO";        case 0x81: return "NEWOBJ";       case 0x82: return "EXT1";
    case 0x83: return "EXT2";         case 0x84: return "EXT4";         case 0x85: return "TUPLE1";
    case 0x86: return "TUPLE2";       case 0x87: return "TUPLE3";       case 0x88: return "NEWTRUE";
    case 0x89: return "NEWFALSE";     case 0x8a: return "LONG1";        case 0x8b: return "LONG4";
    case 0x8c: return "SHORT_BINUNICODE"; case 0x8d: return "BINUNICODE8"; case 0x8e: return "BINBYTES8";
    case 0x8f: return "EMPTY_SET";    case 0x90: return "ADDITEMS";     case 0x91: return "FROZENSET";
    case 0x92: return "NEWOBJ_EX";    case 0x93: return "STACK_GLOBAL"; case 0x94: return "MEMOIZE";
    case 0x95: return "FRAME";        case 0x96: return "BYTEARRAY8";   case 0x97: return "NEXT_BUFFER";
    case 0x98: return "READONLY_BUFFER";
    default: return nullptr;
  }
}
// clang-format on

std::string describe_opcode(std::uint8_t op) {
  const char* name = opcode_name(op);
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02x", op);
  return name ? std::string(name) + " (" + hex + ")" : std::string("unknown opcode ") + hex;
}

constexpr const char* kPickleHint =
    "bentov reads state dicts (name -> tensor) written by torch.save and never runs code from "
    "a pickle; convert the checkpoint to safetensors (save_pretrained(..., "
    "safe_serialization=True)) with a trusted PyTorch";

class Unpickler {
 public:
  Unpickler(std::span<const std::byte> data, std::string what)
      : data_(data), what_(std::move(what)) {}

  std::vector<PickledTensor> run() {
    if (data_.size() > kMaxPickleBytes) {
      fail("is " + std::to_string(data_.size()) + " bytes (limit " +
           std::to_string(kMaxPickleBytes) + ")");
    }
    if (data_.size() < 2 || u8(0) != 0x80) {
      fail("does not start with a PROTO opcode (torch.save pickles with protocol 2 or later)");
    }
    Value* result = nullptr;
    while (result == nullptr) {
      if (pos_ >= data_.size()) fail("ends without a STOP opcode (truncated)");
      op_pos_ = pos_;
      const std::uint8_t op = u8(pos_++);
      result = step(op);
    }
    return extract(result);
  }

 private:
  [[noreturn]] void fail(const std::string& m) const {
    throw FormatError(what_ + " " + m, kPickleHint);
  }
  [[noreturn]] void fail_at(const std::string& m) const {
    throw FormatError(what_ + ": byte " + std::to_string(op_pos_) + ": " + m, kPickleHint);
  }

  std::uint8_t u8(std::size_t p) const { return std::to_integer<std::uint8_t>(data_[p]); }

  const std::byte* take(std::uint64_t n) {
    if (n > data_.size() - pos_) fail_at("truncated: needs " + std::to_string(n) + " more bytes");
    const std::byte* p = data_.data() + pos_;
    pos_ += static_cast<std::size_t>(n);
    return p;
  }
  std::uint64_t take_le(int n) {
    const std::byte* p = take(static_cast<std::uint64_t>(n));
    std::uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | std::to_integer<std::uint64_t>(p[i]);
    return v;
  }

  Value* make(Kind k) {
    if (arena_.size() >= kMaxPickleValues) {
      fail_at("builds more than " + std::to_string(kMaxPickleValues) + " objects");
    }
    arena_.emplace_back();
    arena_.back().kind = k;
    return &arena_.back();
  }
  Value* make_int(std::int64_t v) {
    Value* x = make(Kind::kInt);
    x->i = v;
    return x;
  }
  Value* make_string(Kind k, std::uint64_t n) {
    if (n > kMaxPickleString) {
      fail_at("has a " + std::to_string(n) + "-byte string (limit " +
              std::to_string(kMaxPickleString) + ")");
    }
    const std::byte* p = take(n);
    Value* x = make(k);
    x->s.assign(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
    return x;
  }

  void push(Value* v) {
    if (stack_.size() >= kMaxPickleStack) {
      fail_at("stack grows past " + std::to_string(kMaxPickleStack) + " entries");
    }
    stack_.push_back(v);
  }
  Value* pop() {
    if (stack_.size() <= stack_floor()) fail_at("pops from an empty stack");
    Value* v = stack_.back();
    stack_.pop_back();
    return v;
  }
  Value* top() {
    if (stack_.size() <= stack_floor()) fail_at("reads an empty stack");
    return stack_.back();
  }
  std::size_t stack_floor() const { return marks_.empty() ? 0 : marks_.back(); }
  // Everything above the last MARK, which is removed.
  std::vector<Value*> pop_mark() {
    if (marks_.empty()) fail_at("needs a MARK that is not there");
    const std::size_t m = marks_.back();
    marks_.pop_back();
    std::vector<Value*> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return items;
  }

  void memo_put(std::uint64_t index) {
    if (index >= kMaxPickleMemo) {
      fail_at("memo index " + std::to_string(index) + " exceeds the limit " +
              std::to_string(kMaxPickleMemo));
    }
    Value* v = top();
    if (index >= memo_.size()) memo_.resize(static_cast<std::size_t>(index) + 1, nullptr);
    memo_[static_cast<std::size_t>(index)] = v;
  }
  void memo_get(std::uint64_t index) {
    if (index >= memo_.size() || memo_[static_cast<std::size_t>(index)] == nullptr) {
      fail_at("memo index " + std::to_string(index) + " was never stored");
    }
    push(memo_[static_cast<std::size_t>(index)]);
  }

  Value* tuple_of(std::vector<Value*> items) {
    Value* t = make(Kind::kTuple);
    t->items = std::move(items);
    return t;
  }

  void push_global(const std::string& module, const std::string& name) {
    for (const auto& g : kAllowedGlobals) {
      if (module == g.module && name == g.name) {
        Value* v = make(Kind::kGlobal);
        v->global = &g;
        push(v);
        return;
      }
    }
    std::string shown = module + "." + name;
    for (auto& c : shown) {
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
    }
    if (shown.size() > 120) shown = shown.substr(0, 120) + "...";
    fail_at("refusing global '" + shown +
            "': a state dict needs only collections.OrderedDict, "
            "torch._utils._rebuild_tensor_v2 and torch storage types");
  }

  // One GLOBAL argument line: printable ASCII up to '\n'.
  std::string read_line() {
    std::string s;
    for (;;) {
      if (pos_ >= data_.size()) fail_at("GLOBAL is truncated");
      const char c = static_cast<char>(u8(pos_++));
      if (c == '\n') return s;
      if (s.size() >= 256) fail_at("GLOBAL names a module or attribute longer than 256 bytes");
      s.push_back(c);
    }
  }

  void persistent_load() {
    Value* pid = pop();
    auto bad = [&](const std::string& why) {
      fail_at("persistent id is not ('storage', torch.<T>Storage, key, location, numel): " + why);
    };
    if (pid->kind != Kind::kTuple) bad(std::string("it is ") + kind_name(pid->kind));
    const auto& t = pid->items;
    if (t.size() != 5) bad(std::to_string(t.size()) + " items");
    if (t[0]->kind != Kind::kString || t[0]->s != "storage") bad("the first item is not 'storage'");
    if (t[1]->kind != Kind::kGlobal || t[1]->global->global != Global::kStorageType) {
      bad("the second item is not a storage type");
    }
    if (t[2]->kind != Kind::kString || t[2]->s.empty() || t[2]->s.size() > 64 ||
        t[2]->s.find_first_of(std::string_view("/\\\0", 3)) != std::string::npos) {
      bad("the key is not a short file name");
    }
    if (t[3]->kind != Kind::kString) bad("the location is not a str");
    if (t[4]->kind != Kind::kInt || t[4]->i < 0) bad("numel is not a non-negative int");
    const DType dtype = t[1]->global->dtype;
    const auto numel = static_cast<std::uint64_t>(t[4]->i);
    auto [it, fresh] = storage_by_key_.emplace(t[2]->s, storages_.size());
    if (fresh) {
      storages_.push_back({t[2]->s, dtype, numel});
    } else if (storages_[it->second].dtype != dtype || storages_[it->second].numel != numel) {
      fail_at("storage '" + t[2]->s + "' is referenced with two different types or sizes");
    }
    Value* v = make(Kind::kStorage);
    v->i = static_cast<std::int64_t>(it->second);
    push(v);
  }

  static bool int_tuple(const Value* v, std::vector<std::int64_t>* out) {
    if (v->kind != Kind::kTuple) return false;
    for (const Value* x : v->items) {
      if (x->kind != Kind::kInt) return false;
      out->push_back(x->i);
    }
    return true;
  }

  Value* rebuild_tensor(const std::vector<Value*>& a, bool v2) {
    const std::string fn = v2 ? "_rebuild_tensor_v2" : "_rebuild_tensor";
    auto bad = [&](const std::string& why) { fail_at(fn + " called with " + why); };
    if (v2 ? (a.size() != 6 && a.size() != 7) : a.size() != 4) {
      bad(std::to_string(a.size()) + " arguments");
    }
    if (a[0]->kind != Kind::kStorage)
      bad(std::string("") + kind_name(a[0]->kind) + " as its storage");
    if (a[1]->kind != Kind::kInt || a[1]->i < 0)
      bad("a storage offset that is not a non-negative int");
    RawTensor t{static_cast<std::size_t>(a[0]->i), a[1]->i, {}, {}, false};
    if (!int_tuple(a[2], &t.shape)) bad("a size that is not a tuple of ints");
    if (!int_tuple(a[3], &t.stride)) bad("a stride that is not a tuple of ints");
    if (t.shape.size() != t.stride.size()) bad("size and stride of different lengths");
    if (t.shape.size() > kMaxTensorDims)
      bad("more than " + std::to_string(kMaxTensorDims) + " dimensions");
    if (v2) {
      if (a[4]->kind != Kind::kBool) bad("a requires_grad that is not a bool");
      if (a[5]->kind != Kind::kDict) bad("backward_hooks that are not a dict");
      if (a.size() == 7) {
        if (a[6]->kind != Kind::kDict) bad("metadata that is not a dict");
        t.has_metadata = !a[6]->items.empty();
      }
    }
    if (tensors_.size() >= kMaxPickleTensors) {
      fail_at("builds more than " + std::to_string(kMaxPickleTensors) + " tensors");
    }
    tensors_.push_back(std::move(t));
    Value* v = make(Kind::kTensor);
    v->i = static_cast<std::int64_t>(tensors_.size() - 1);
    return v;
  }

  void reduce() {
    Value* args = pop();
    Value* fn = pop();
    if (fn->kind != Kind::kGlobal)
      fail_at(std::string("REDUCE on ") + kind_name(fn->kind) + ", not a callable");
    const std::string name = std::string(fn->global->module) + "." + fn->global->name;
    if (args->kind != Kind::kTuple)
      fail_at("REDUCE of '" + name + "' with arguments that are not a tuple");
    const auto& a = args->items;
    switch (fn->global->global) {
      case Global::kOrderedDict:
        if (!a.empty()) fail_at("collections.OrderedDict called with arguments");
        push(make(Kind::kDict));
        return;
      case Global::kRebuildTensorV2:
        push(rebuild_tensor(a, true));
        return;
      case Global::kRebuildTensor:
        push(rebuild_tensor(a, false));
        return;
      case Global::kRebuildParameter:
        if (a.size() != 3 || a[0]->kind != Kind::kTensor || a[1]->kind != Kind::kBool ||
            a[2]->kind != Kind::kDict) {
          fail_at("_rebuild_parameter called with arguments other than (tensor, bool, dict)");
        }
        push(a[0]);
        return;
      case Global::kStorageType:
      case Global::kDtype:
        break;
    }
    fail_at("refusing REDUCE of '" + name + "': a state dict never calls it");
  }

  // Executes one opcode; returns the result at STOP.
  Value* step(std::uint8_t op) {
    switch (op) {
      case 0x80: {  // PROTO
        const auto v = static_cast<std::uint8_t>(take_le(1));
        if (op_pos_ != 0) fail_at("PROTO after the start of the pickle");
        if (v < 2 || v > 5) fail_at("pickle protocol " + std::to_string(v) + " (2 to 5 are read)");
        return nullptr;
      }
      case 0x95: {  // FRAME: framing is advisory; its length must fit in what is left
        const std::uint64_t n = take_le(8);
        if (n > data_.size() - pos_)
          fail_at("FRAME of " + std::to_string(n) + " bytes runs past the end");
        return nullptr;
      }
      case '.': {  // STOP
        Value* v = pop();
        if (!marks_.empty()) fail_at("STOP with an open MARK");
        return v;
      }
      case '(':
        if (marks_.size() >= kMaxPickleMarks)
          fail_at("nests more than " + std::to_string(kMaxPickleMarks) + " MARKs");
        marks_.push_back(stack_.size());
        return nullptr;
      case ')':
        push(make(Kind::kTuple));
        return nullptr;
      case 't':
        push(tuple_of(pop_mark()));
        return nullptr;
      case 0x85:
      case 0x86:
      case 0x87: {  // TUPLE1..3
        const std::size_t n = op - 0x84u;
        std::vector<Value*> items(n);
        for (std::size_t i = n; i-- > 0;) items[i] = pop();
        push(tuple_of(std::move(items)));
        return nullptr;
      }
      case ']':
        push(make(Kind::kList));
        return nullptr;
      case 'a': {
        Value* v = pop();
        Value* list = top();
        if (list->kind != Kind::kList) fail_at(std::string("APPEND to ") + kind_name(list->kind));
        list->items.push_back(v);
        return nullptr;
      }
      case 'e': {
        auto items = pop_mark();
        Value* list = top();
        if (list->kind != Kind::kList)
          fail_at(std::string("APPENDS to ") + kind_name(list->kind));
        list->items.insert(list->items.end(), items.begin(), items.end());
        return nullptr;
      }
      case '}':
        push(make(Kind::kDict));
        return nullptr;
      case 's': {
        Value* v = pop();
        Value* k = pop();
        Value* dict = top();
        if (dict->kind != Kind::kDict)
          fail_at(std::string("SETITEM on ") + kind_name(dict->kind));
        dict->items.push_back(k);
        dict->items.push_back(v);
        return nullptr;
      }
      case 'u': {
        auto items = pop_mark();
        if (items.size() % 2 != 0) fail_at("SETITEMS with an odd number of items");
        Value* dict = top();
        if (dict->kind != Kind::kDict)
          fail_at(std::string("SETITEMS on ") + kind_name(dict->kind));
        dict->items.insert(dict->items.end(), items.begin(), items.end());
        return nullptr;
      }
      case 'q':
        memo_put(take_le(1));
        return nullptr;
      case 'r':
        memo_put(take_le(4));
        return nullptr;
      case 0x94:
        memo_put(memo_.size());
        return nullptr;  // MEMOIZE
      case 'h':
        memo_get(take_le(1));
        return nullptr;
      case 'j':
        memo_get(take_le(4));
        return nullptr;
      case 'J':
        push(make_int(static_cast<std::int32_t>(static_cast<std::uint32_t>(take_le(4)))));
        return nullptr;
      case 'K':
        push(make_int(static_cast<std::int64_t>(take_le(1))));
        return nullptr;
      case 'M':
        push(make_int(static_cast<std::int64_t>(take_le(2))));
        return nullptr;
      case 0x8a: {  // LONG1: little-endian two's complement of n bytes
        const auto n = static_cast<int>(take_le(1));
        if (n > 8) fail_at("LONG1 integer of " + std::to_string(n) + " bytes (at most 8 are read)");
        std::uint64_t v = n ? take_le(n) : 0;
        if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~std::uint64_t{0} << (8 * n);
        push(make_int(static_cast<std::int64_t>(v)));
        return nullptr;
      }
      case 'N':
        push(make(Kind::kNone));
        return nullptr;
      case 0x88:
      case 0x89: {
        Value* b = make(Kind::kBool);
        b->i = op == 0x88;
        push(b);
        return nullptr;
      }
      case 'G': {  // BINFLOAT: big-endian IEEE 754 double
        const std::byte* p = take(8);
        std::uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | std::to_integer<std::uint64_t>(p[i]);
        Value* f = make(Kind::kFloat);
        std::memcpy(&f->f, &bits, 8);
        push(f);
        return nullptr;
      }
      case 'X':
        push(make_string(Kind::kString, take_le(4)));
        return nullptr;
      case 0x8c:
        push(make_string(Kind::kString, take_le(1)));
        return nullptr;
      case 0x8d:
        push(make_string(Kind::kString, take_le(8)));
        return nullptr;
      case 'C':
        push(make_string(Kind::kBytes, take_le(1)));
        return nullptr;
      case 'B':
        push(make_string(Kind::kBytes, take_le(4)));
        return nullptr;
      case 'c': {
        const std::string module = read_line();
        const std::string name = read_line();
        push_global(module, name);
        return nullptr;
      }
      case 0x93: {  // STACK_GLOBAL
        Value* name = pop();
        Value* module = pop();
        if (module->kind != Kind::kString || name->kind != Kind::kString) {
          fail_at("STACK_GLOBAL with a module or name that is not a str");
        }
        push_global(module->s, name->s);
        return nullptr;
      }
      case 'R':
        reduce();
        return nullptr;
      case 'b': {  // BUILD: only an OrderedDict's attribute dict (state_dict()._metadata)
        Value* state = pop();
        Value* obj = top();
        if (obj->kind != Kind::kDict ||
            (state->kind != Kind::kDict && state->kind != Kind::kNone)) {
          fail_at(std::string("refusing BUILD of ") + kind_name(obj->kind) + " from " +
                  kind_name(state->kind) + ": only a dict's attributes are accepted");
        }
        return nullptr;
      }
      case 'Q':
        persistent_load();
        return nullptr;
      default:
        fail_at("refusing pickle opcode " + describe_opcode(op) +
                ": not one a torch.save state dict uses");
    }
  }

  std::vector<PickledTensor> extract(const Value* result) {
    if (result->kind != Kind::kDict) {
      fail(std::string("holds ") + kind_name(result->kind) +
           ", not a state dict (name -> tensor)");
    }
    std::vector<PickledTensor> out;
    std::set<std::string_view> names;
    const auto& items = result->items;
    for (std::size_t i = 0; i + 1 < items.size(); i += 2) {
      const Value* k = items[i];
      const Value* v = items[i + 1];
      if (k->kind != Kind::kString)
        fail(std::string("has a state dict key that is ") + kind_name(k->kind));
      const std::string& name = k->s;
      if (v->kind != Kind::kTensor) {
        fail("entry '" + name + "' is " + kind_name(v->kind) + ", not a tensor");
      }
      if (!names.insert(name).second) fail("names tensor '" + name + "' twice");
      const RawTensor& t = tensors_[static_cast<std::size_t>(v->i)];
      const Storage& s = storages_[t.storage];
      auto bad = [&](const std::string& why, const std::string& hint = kPickleHint) {
        throw FormatError(what_ + ": tensor '" + name + "' " + why, hint);
      };
      if (t.has_metadata) {
        bad("carries tensor metadata (a conjugate or negative view)",
            "re-save the state dict after .resolve_conj().resolve_neg(), or as safetensors");
      }
      // Element count, and contiguity: torch's is_contiguous ignores the strides of size-1
      // dims and of empty tensors.
      std::uint64_t numel = 1;
      bool overflow = false;
      for (auto d : t.shape) {
        if (d < 0) bad("has a negative dimension");
        const auto ud = static_cast<std::uint64_t>(d);
        if (ud != 0 && numel > std::numeric_limits<std::uint64_t>::max() / ud) overflow = true;
        numel *= ud;
      }
      if (overflow ||
          numel > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        bad("has a shape whose size overflows");
      }
      if (numel != 0) {
        std::int64_t expected = 1;
        for (std::size_t d = t.shape.size(); d-- > 0;) {
          if (t.shape[d] != 1 && t.stride[d] != expected) {
            std::string shape_s, stride_s;
            for (std::size_t j = 0; j < t.shape.size(); ++j) {
              shape_s += (j ? ", " : "") + std::to_string(t.shape[j]);
              stride_s += (j ? ", " : "") + std::to_string(t.stride[j]);
            }
            bad("is not contiguous (size [" + shape_s + "], stride [" + stride_s + "])",
                "bentov reads contiguous tensors, which save_pretrained writes; re-save with "
                "{k: v.contiguous() for k, v in state_dict.items()} or as safetensors");
          }
          expected *= t.shape[d];
        }
      }
      const auto offset = static_cast<std::uint64_t>(t.offset);
      if (offset > s.numel || numel > s.numel - offset) {
        bad("needs elements [" + std::to_string(offset) + ", " + std::to_string(offset) + " + " +
                std::to_string(numel) + ") of storage '" + s.key + "', which holds " +
                std::to_string(s.numel),
            "the checkpoint is corrupt or hostile; re-download it");
      }
      out.push_back({name, s.key, s.dtype, s.numel, offset, t.shape});
    }
    return out;
  }

  std::span<const std::byte> data_;
  std::string what_;
  std::size_t pos_ = 0;
  std::size_t op_pos_ = 0;
  std::deque<Value> arena_;
  std::vector<Value*> stack_;
  std::vector<std::size_t> marks_;
  std::vector<Value*> memo_;
  std::vector<Storage> storages_;
  std::unordered_map<std::string, std::size_t> storage_by_key_;
  std::vector<RawTensor> tensors_;
};

}  // namespace

std::vector<PickledTensor> parse_pytorch_pickle(std::span<const std::byte> pickle,
                                                const std::string& what) {
  return Unpickler(pickle, what).run();
}

}  // namespace bentov::io
