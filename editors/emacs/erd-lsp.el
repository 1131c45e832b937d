;;; erd-lsp.el --- Mermaid ER diagrams with erd-lsp through Eglot  -*- lexical-binding: t; -*-

;; Keywords: languages, tools, mermaid
;; Package-Requires: ((emacs "28.1") (eglot "1.9"))

;;; Commentary:

;; Eglot set-up for erd-lsp, the language server for Mermaid entity-relationship
;; diagrams (`erDiagram'), in .mmd/.mermaid files and in ```mermaid fences in Markdown.
;;
;; What this file gives you:
;; - `mermaid-er-mode' (derived from `prog-mode'): `%%' comments, simple font-lock and
;;   indentation, used for .mmd and .mermaid files.  If `mermaid-mode' (MELPA) is
;;   installed it is kept for those files instead (see `erd-lsp-use-mermaid-mode'), and
;;   erd-lsp is attached to it as well;
;; - erd-lsp in `eglot-server-programs' for those modes (language id "mermaid") and for
;;   `markdown-mode' and its derivatives such as `gfm-mode' (language id "markdown");
;; - Eglot started automatically in Mermaid buffers, and in Markdown buffers that
;;   mention "mermaid" (see `erd-lsp-auto-start').
;;
;; Eglot then gives diagnostics (Flymake), `xref-find-definitions' (M-.),
;; `xref-find-references' (M-?), completion (`completion-at-point', Company, Corfu),
;; `eglot-rename', `eglot-code-actions' (quick fixes), hover (ElDoc) and `imenu'.
;;
;; Install:
;;
;;   1. The server:  pip install erd-lsp   (or use a virtualenv, see below).
;;   2. Eglot: built into Emacs 29+; on Emacs 28 `M-x package-install RET eglot' or
;;      Debian's `apt-get install elpa-eglot'.  Markdown buffers need `markdown-mode'
;;      (MELPA/NonGNU ELPA, or Debian's `elpa-markdown-mode').
;;   3. Put this file on your `load-path' and add to your init file:
;;
;;        (require 'erd-lsp)
;;        ;; only if `erd-lsp' is not on PATH:
;;        (setq erd-lsp-server-command '("/path/to/venv/bin/python" "-m" "erd_lsp"))
;;
;;      or with use-package:
;;
;;        (use-package erd-lsp
;;          :load-path "/path/to/erd-lsp/editors/emacs"
;;          :custom (erd-lsp-server-command '("erd-lsp")))
;;
;; Settings the server reads at start-up (the keys of [tool.erd-lsp]) can be passed with
;; `erd-lsp-initialization-options', e.g. '(:ignore ["W102"]).
;;
;; Note: Eglot runs one server per buffer.  If you use another Markdown language server
;; (e.g. marksman) through Eglot, set `erd-lsp-markdown' to nil before loading this file,
;; or erd-lsp takes over Markdown buffers.
;;
;; With Eglot 1.9 (Emacs 28) the language id belongs to the server, not to the buffer, so
;; Mermaid files and Markdown files get a server process each (one per project).

;;; Code:

(require 'prog-mode)

(declare-function eglot-ensure "eglot" ())
(autoload 'eglot-ensure "eglot" "Start Eglot session for current buffer if there isn't one." nil)
(defvar eglot-server-programs)

(defgroup erd-lsp nil
  "Mermaid ER diagrams with the erd-lsp language server."
  :group 'languages
  :prefix "erd-lsp-")

(defcustom erd-lsp-server-command '("erd-lsp")
  "Command line that starts erd-lsp on stdio, as a list of strings.
For a virtualenv without the `erd-lsp' script on PATH use
  (\"/path/to/venv/bin/python\" \"-m\" \"erd_lsp\").
Read each time a server starts (\\[eglot-reconnect] picks up a change)."
  :type '(repeat string))

(defcustom erd-lsp-initialization-options nil
  "Settings sent to the server as LSP `initializationOptions' (a plist), or nil.
Same keys as [tool.erd-lsp], e.g. (:select [\"E001\" \"W101\"] :ignore [\"W102\"]
:severity (:W101 \"error\"))."
  :type '(choice (const :tag "None" nil) (plist :tag "Options")))

(defcustom erd-lsp-auto-start t
  "Whether to start Eglot automatically.
t: in Mermaid buffers, and in Markdown buffers whose text contains \"mermaid\";
`mermaid': in Mermaid buffers only; nil: never (use \\[eglot] yourself)."
  :type '(choice (const :tag "Mermaid and Markdown with diagrams" t)
                 (const :tag "Mermaid buffers only" mermaid)
                 (const :tag "Never" nil)))

(defcustom erd-lsp-markdown t
  "Non-nil: register erd-lsp for `markdown-mode' buffers too (fenced diagrams).
Takes effect when this file is loaded."
  :type 'boolean)

(defcustom erd-lsp-use-mermaid-mode t
  "Non-nil: if `mermaid-mode' is installed, leave .mmd/.mermaid files to it.
Otherwise (or when it is not installed) those files open in `mermaid-er-mode'.
Either way erd-lsp is attached.  Takes effect when this file is loaded."
  :type 'boolean)

(defcustom erd-lsp-indent-offset 4
  "Indentation of statements in `mermaid-er-mode' (attributes get twice that)."
  :type 'integer
  :safe #'integerp)

;;; The major mode

(defvar mermaid-er-mode-syntax-table
  (let ((st (make-syntax-table)))
    ;; `%%' starts a comment that runs to the end of the line
    (modify-syntax-entry ?% ". 12" st)
    (modify-syntax-entry ?\n ">" st)
    (modify-syntax-entry ?\" "\"" st)
    (modify-syntax-entry ?_ "_" st)
    (modify-syntax-entry ?- "_" st)
    (modify-syntax-entry ?{ "(}" st)
    (modify-syntax-entry ?} "){" st)
    (modify-syntax-entry ?\[ "(]" st)
    (modify-syntax-entry ?\] ")[" st)
    st)
  "Syntax table for `mermaid-er-mode'.")

(defconst mermaid-er--syntax-propertize
  (syntax-propertize-rules
   ;; the braces of cardinalities (`}o', `}|', `o{', `|{') are not blocks
   ((concat "\\(?:\\(}\\)[o|]\\|[o|][o|]\\|u\\)"
            "\\(?:--\\|\\.\\.\\)"
            "\\(?:[o|]\\({\\)\\|[o|][o|]\\|u\\)")
    (1 ".") (2 ".")))
  "`syntax-propertize-function' for `mermaid-er-mode'.")

(defun mermaid-er--in-block-p (pos)
  "Non-nil if POS is inside braces (an entity block)."
  (save-excursion (> (car (syntax-ppss pos)) 0)))

(defconst mermaid-er-font-lock-keywords
  `(("^\\s-*\\(erDiagram\\)\\_>" 1 font-lock-keyword-face)
    ("^\\s-*\\(direction\\)\\s-+\\(TB\\|BT\\|LR\\|RL\\)\\_>"
     (1 font-lock-keyword-face) (2 font-lock-constant-face))
    ("^\\s-*\\(classDef\\|class\\|style\\)\\_>\\s-*\\([^ \t\n]+\\)?"
     (1 font-lock-keyword-face) (2 font-lock-variable-name-face nil t))
    ("^\\s-*\\(accTitle\\|accDescr\\|title\\)\\s-*:" 1 font-lock-keyword-face)
    ;; ENTITY {   and   ENTITY["alias"] {
    ("^\\s-*\\([^ \t\n{}\"%\\[]+\\)\\s-*\\(?:\\[[^]\n]*\\]\\s-*\\)?{" 1 font-lock-type-face)
    ;; A ||--o{ B : label
    (,(concat "^\\s-*\\([^ \t\n{}\"%]+\\)\\s-*[|}o][|o]\\(?:--\\|\\.\\.\\)[|{o][|o]\\s-*\\([^ \t\n{}\":]+\\)")
     (1 font-lock-type-face) (2 font-lock-type-face))
    ("\\(?:[|}o][|o]\\)\\(?:--\\|\\.\\.\\)\\(?:[|{o][|o]\\)" 0 font-lock-builtin-face)
    ;; attribute keys
    ("\\_<\\(PK\\|FK\\|UK\\)\\_>" 1 font-lock-constant-face)
    ;; `type name' at the start of a line inside an entity block
    ("^\\s-+\\([A-Za-z_][^ \t\n\"{}]*\\)\\s-+\\([*A-Za-z_][A-Za-z0-9_-]*\\)"
     (1 (when (mermaid-er--in-block-p (match-beginning 0)) font-lock-type-face))
     (2 (when (mermaid-er--in-block-p (match-beginning 0)) font-lock-variable-name-face))))
  "Font-lock keywords for `mermaid-er-mode'.")

(defun mermaid-er-indent-line ()
  "Indent the current line: statements one level, attributes two.
Lines before `erDiagram' (front matter, directives) keep their indentation."
  (interactive)
  (let ((col
         (save-excursion
           (back-to-indentation)
           (cond
            ((looking-at-p "erDiagram\\_>\\|---\\s-*$") 0)
            ((not (save-excursion (re-search-backward "^\\s-*erDiagram\\_>" nil t)))
             (current-indentation))
            (t
             (let ((depth (save-excursion (car (syntax-ppss (line-beginning-position))))))
               (when (looking-at-p "[]}]") (setq depth (max 0 (1- depth))))
               (* erd-lsp-indent-offset (1+ depth)))))))
        (offset (- (current-column) (current-indentation))))
    (indent-line-to col)
    (when (> offset 0) (forward-char offset))))

;;;###autoload
(define-derived-mode mermaid-er-mode prog-mode "Mermaid-ER"
  "Major mode for Mermaid entity-relationship diagrams (`erDiagram').
Checking, navigation and completion come from erd-lsp through Eglot."
  :syntax-table mermaid-er-mode-syntax-table
  (setq-local comment-start "%% ")
  (setq-local comment-end "")
  (setq-local comment-start-skip "%%+\\s-*")
  (setq-local font-lock-defaults '(mermaid-er-font-lock-keywords))
  (setq-local syntax-propertize-function mermaid-er--syntax-propertize)
  (setq-local indent-line-function #'mermaid-er-indent-line)
  (setq-local indent-tabs-mode nil)
  (setq-local electric-indent-chars (append '(?}) electric-indent-chars)))

(defun erd-lsp--mermaid-mode-available-p ()
  "Non-nil if `mermaid-mode' is defined or installed."
  (or (fboundp 'mermaid-mode) (locate-library "mermaid-mode")))

(unless (and erd-lsp-use-mermaid-mode (erd-lsp--mermaid-mode-available-p))
  (add-to-list 'auto-mode-alist '("\\.mmd\\'" . mermaid-er-mode))
  (add-to-list 'auto-mode-alist '("\\.mermaid\\'" . mermaid-er-mode)))

;;; Eglot

(defun erd-lsp--contact (&rest _)
  "The server's command line for Eglot (from `erd-lsp-server-command')."
  (append erd-lsp-server-command
          (when erd-lsp-initialization-options
            (list :initializationOptions erd-lsp-initialization-options))))

(defun erd-lsp--register ()
  "Add erd-lsp to `eglot-server-programs'.
Two entries, not one: Eglot 1.9 keeps one language id per server."
  (when erd-lsp-markdown
    (add-to-list 'eglot-server-programs
                 '(((markdown-mode :language-id "markdown")) . erd-lsp--contact)))
  (add-to-list 'eglot-server-programs
               '(((mermaid-er-mode :language-id "mermaid")
                  (mermaid-mode :language-id "mermaid"))
                 . erd-lsp--contact)))

(with-eval-after-load 'eglot (erd-lsp--register))

(defun erd-lsp-maybe-start ()
  "Start Eglot here according to `erd-lsp-auto-start'."
  (when (and erd-lsp-auto-start buffer-file-name)
    (cond
     ((derived-mode-p 'mermaid-er-mode 'mermaid-mode) (eglot-ensure))
     ((and (eq erd-lsp-auto-start t) erd-lsp-markdown (derived-mode-p 'markdown-mode)
           (save-excursion
             (save-restriction
               (widen)
               (goto-char (point-min))
               (search-forward "mermaid" nil t))))
      (eglot-ensure)))))

(add-hook 'mermaid-er-mode-hook #'erd-lsp-maybe-start)
(add-hook 'mermaid-mode-hook #'erd-lsp-maybe-start)
(add-hook 'markdown-mode-hook #'erd-lsp-maybe-start)

(provide 'erd-lsp)
;;; erd-lsp.el ends here
