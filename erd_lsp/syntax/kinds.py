"""Token and node kinds of the ER syntax tree.

Kinds are plain strings (interned, so comparing them is as cheap as comparing ints and a
tree dump reads well). Token kinds are UPPER_CASE, node kinds too but listed apart.
"""

# --- tokens the grammar sees (Mermaid's terminals) ---------------------------------------
ER_DIAGRAM = "ER_DIAGRAM"
NEWLINE = "NEWLINE"
ENTITY_NAME = "ENTITY_NAME"  # "quoted name"
WORD = "WORD"  # any other quoted string ("", "a%b", spanning lines)
UNICODE_TEXT = "UNICODE_TEXT"  # unquoted name, label or class name
NUM = "NUM"
DECIMAL_NUM = "DECIMAL_NUM"
ENTITY_ONE = "ENTITY_ONE"  # the entity named 1
BLOCK_START = "BLOCK_START"
BLOCK_STOP = "BLOCK_STOP"
BRKT = "BRKT"  # '#'
COMMA = "COMMA"
STYLE_SEPARATOR = "STYLE_SEPARATOR"  # ':::'
COLON = "COLON"
SQS = "SQS"
SQE = "SQE"
STYLE = "STYLE"
CLASSDEF = "CLASSDEF"
CLASS = "CLASS"
SUBGRAPH = "SUBGRAPH"
END = "END"
ZERO_OR_ONE = "ZERO_OR_ONE"
ZERO_OR_MORE = "ZERO_OR_MORE"
ONE_OR_MORE = "ONE_OR_MORE"
ONLY_ONE = "ONLY_ONE"
MD_PARENT = "MD_PARENT"
IDENTIFYING = "IDENTIFYING"
NON_IDENTIFYING = "NON_IDENTIFYING"
DIRECTION = "DIRECTION"
ACC_TITLE = "ACC_TITLE"
ACC_TITLE_VALUE = "ACC_TITLE_VALUE"
ACC_DESCR = "ACC_DESCR"
ACC_DESCR_VALUE = "ACC_DESCR_VALUE"
ACC_DESCR_MULTI_VALUE = "ACC_DESCR_MULTI_VALUE"
ATTRIBUTE_WORD = "ATTRIBUTE_WORD"
ATTRIBUTE_KEY = "ATTRIBUTE_KEY"
COMMENT_STRING = "COMMENT_STRING"  # "comment" after an attribute
STYLE_TEXT = "STYLE_TEXT"
SEMI = "SEMI"
CHAR = "CHAR"  # any other single character ('?', ',', ';', '<', ...)
EOF = "EOF"
END_OF_INPUT = "END_OF_INPUT"  # the input ended in a state that has no end rule

# --- tokens the grammar does not see --------------------------------------------------
WHITESPACE = "WHITESPACE"
ACC_DESCR_OPEN = "ACC_DESCR_OPEN"  # 'accDescr {'
ACC_DESCR_CLOSE = "ACC_DESCR_CLOSE"  # its '}'
BACKTICK = "BACKTICK"
LEX_ERROR = "LEX_ERROR"  # text no lexer rule accepts
CONFLICT_MARKER = "CONFLICT_MARKER"  # a Git conflict marker line
# removed by Mermaid's preprocessing
FRONT_MATTER = "FRONT_MATTER"
DIRECTIVE = "DIRECTIVE"
COMMENT = "COMMENT"
REMOVED_SEMI = "REMOVED_SEMI"

# how each keyword token is spelt (its text may carry more: `end` its trailing blanks)
KEYWORD_SPELLING = {
    ER_DIAGRAM: "erDiagram",
    STYLE: "style",
    CLASSDEF: "classDef",
    CLASS: "class",
    SUBGRAPH: "subgraph",
    END: "end",
    DIRECTION: "direction",
    ACC_TITLE: "accTitle",
    ACC_DESCR: "accDescr",
    ACC_DESCR_OPEN: "accDescr",
}

CARDINALITIES = frozenset({ZERO_OR_ONE, ZERO_OR_MORE, ONE_OR_MORE, ONLY_ONE, MD_PARENT})
REL_TYPES = frozenset({IDENTIFYING, NON_IDENTIFYING})
ENTITY_NAMES = frozenset({ENTITY_NAME, UNICODE_TEXT, NUM, DECIMAL_NUM, ENTITY_ONE})
ROLES = frozenset({WORD, ENTITY_NAME, UNICODE_TEXT})
TRIVIA = frozenset(
    {WHITESPACE, ACC_DESCR_OPEN, ACC_DESCR_CLOSE, BACKTICK, FRONT_MATTER, DIRECTIVE, COMMENT, REMOVED_SEMI}
)

# --- nodes ---------------------------------------------------------------------------
DIAGRAM = "DIAGRAM"
HEADER = "HEADER"
ENTITY_STMT = "ENTITY_STMT"  # NAME [ALIAS] [CLASSES] [BLOCK]
ENTITY_REF = "ENTITY_REF"  # an entity name inside a statement
ALIAS = "ALIAS"
CLASS_LIST = "CLASS_LIST"  # ':::' a,b
ATTR_BLOCK = "ATTR_BLOCK"
ATTRIBUTE = "ATTRIBUTE"
ATTR_TYPE = "ATTR_TYPE"
ATTR_NAME = "ATTR_NAME"
KEY_LIST = "KEY_LIST"
ATTR_COMMENT = "ATTR_COMMENT"
REL_STMT = "REL_STMT"
REL_SPEC = "REL_SPEC"
LABEL = "LABEL"
CLASS_STMT = "CLASS_STMT"
STYLE_STMT = "STYLE_STMT"
CLASSDEF_STMT = "CLASSDEF_STMT"
ID_LIST = "ID_LIST"
STYLE_LIST = "STYLE_LIST"
STYLE_DECL = "STYLE_DECL"
DIRECTION_STMT = "DIRECTION_STMT"
ACC_TITLE_STMT = "ACC_TITLE_STMT"
ACC_DESCR_STMT = "ACC_DESCR_STMT"
SUBGRAPH_START = "SUBGRAPH_START"
SUBGRAPH_TITLE = "SUBGRAPH_TITLE"
SUBGRAPH_END = "SUBGRAPH_END"
CONFLICT = "CONFLICT"  # a conflict marker line as an item
ERROR = "ERROR"  # tokens skipped during error recovery
EOF_ITEM = "EOF_ITEM"
