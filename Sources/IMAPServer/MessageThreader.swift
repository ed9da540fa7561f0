import IMAPProtocol
import MailStore

/// The THREAD algorithms of RFC 5256 §2 over a set of messages, and their answer, the
/// `thread-list`s of RFC 5256 §4 (`(1)(2 3 4)((5)(6))`).
///
/// Containers live in one array and link by index; every walk is a loop with its own stack,
/// so a deep thread costs heap, not call stack.
struct MessageThreader {
    /// The messages, in sequence-number order.
    let rows: [SortRow]
    /// What the answer names each message by: its sequence number or its UID.
    let number: (SortRow) -> UInt32

    private struct Container {
        /// Index into `rows`; nil for a dummy (a message referred to but not in the set).
        var row: Int?
        var parent: Int?
        var children: [Int] = []
    }

    private var nodes: [Container] = []

    init(rows: [SortRow], number: @escaping (SortRow) -> UInt32) {
        self.rows = rows
        self.number = number
    }

    /// The `thread-list`s of the THREAD response, without `* THREAD`.
    mutating func threads(_ algorithm: ThreadAlgorithm) -> String {
        nodes = []
        let roots = algorithm == .references ? references() : orderedSubject()
        return render(roots)
    }

    // MARK: ORDEREDSUBJECT (RFC 5256 §2.1)

    /// Sorted by base subject then sent date; each run of one base subject is a thread whose
    /// first message is the parent of the others; threads in the sent date of their first message.
    private mutating func orderedSubject() -> [Int] {
        let order = MessageSorter(criteria: [SortCriterion(.subject), SortCriterion(.date)]).indices(rows)
        var roots: [Int] = []
        var current: Int?
        for index in order {
            let node = add(row: index)
            if let parent = current, subject(parent).text == rows[index].subject {
                link(parent, node)
            } else {
                roots.append(node)
                current = node
            }
        }
        return roots.sorted(by: precedes)
    }

    // MARK: REFERENCES (RFC 5256 §2.2)

    private mutating func references() -> [Int] {
        var byID: [String: Int] = [:]
        byID.reserveCapacity(rows.count * 2)
        nodes.reserveCapacity(rows.count * 2)
        for index in rows.indices {
            let row = rows[index]
            // Step 1A: the message's container. A missing Message-ID, or one an earlier message
            // already has, gets a container of its own (a unique id).
            let node: Int
            if let id = row.messageID, let existing = byID[id], nodes[existing].row == nil {
                node = existing
                nodes[node].row = index
            } else {
                node = add(row: index)
                if let id = row.messageID, byID[id] == nil { byID[id] = node }
            }
            // Link the references in order; keep existing links and never make a loop.
            var previous: Int?
            for id in row.references {
                let reference: Int
                if let existing = byID[id] {
                    reference = existing
                } else {
                    reference = add(row: nil)
                    byID[id] = reference
                }
                if let parent = previous, nodes[reference].parent == nil, !isAncestor(reference, of: parent) {
                    link(parent, reference)
                }
                previous = reference
            }
            // Step 1B: the last reference is the parent; it replaces a parent guessed before.
            unlink(node)
            if let parent = previous, !isAncestor(node, of: parent) { link(parent, node) }
        }
        // Step 2: the root set.
        var roots = nodes.indices.filter { nodes[$0].parent == nil }
        // Step 3: prune dummies.
        roots = prune(roots)
        // Step 4: sort the root set by sent date; a dummy by its first child, its children sorted first.
        for root in roots where nodes[root].row == nil { sortChildren(root) }
        roots.sort(by: precedes)
        // Step 5: gather threads of the same base subject.
        roots = mergeSubjects(roots)
        // Step 6: sort every set of siblings, deepest first.
        sortAll(roots)
        return roots.sorted(by: precedes)
    }

    /// Step 3: dummies without children go; dummies with children give their children to their
    /// parent, except at the root, where only a single child is promoted.
    private mutating func prune(_ roots: [Int]) -> [Int] {
        for node in postOrder(roots) {
            var kept: [Int] = []
            for child in nodes[node].children {
                if nodes[child].row != nil {
                    kept.append(child)
                } else {
                    for grandchild in nodes[child].children { nodes[grandchild].parent = node }
                    kept += nodes[child].children
                    nodes[child].children = []
                    nodes[child].parent = nil
                }
            }
            nodes[node].children = kept
        }
        var result: [Int] = []
        for root in roots {
            if nodes[root].row != nil { result.append(root); continue }
            switch nodes[root].children.count {
            case 0: continue
            case 1:
                let child = nodes[root].children[0]
                nodes[child].parent = nil
                nodes[root].children = []
                result.append(child)
            default: result.append(root)
            }
        }
        return result
    }

    /// Step 5: the subject table, then the merges, in the order of the sorted root set.
    private mutating func mergeSubjects(_ roots: [Int]) -> [Int] {
        var table: [String: Int] = [:]
        table.reserveCapacity(roots.count)
        for root in roots {
            let (subject, isReply) = subject(root)
            guard !subject.isEmpty else { continue }
            guard let held = table[subject] else { table[subject] = root; continue }
            let (heldDummy, rootDummy) = (nodes[held].row == nil, nodes[root].row == nil)
            // 5B: a dummy wins over a message; a message without Re: over a reply.
            if (rootDummy && !heldDummy) || (!rootDummy && !heldDummy && self.subject(held).isReply && !isReply) {
                table[subject] = root
            }
        }
        var roots = roots
        var slot = Dictionary(uniqueKeysWithValues: roots.enumerated().map { ($1, $0) })
        var removed = Set<Int>()
        for position in roots.indices {
            let root = roots[position]
            guard !removed.contains(root) else { continue }
            let (subject, isReply) = subject(root)
            guard !subject.isEmpty, let held = table[subject], held != root else { continue }
            let (heldDummy, rootDummy) = (nodes[held].row == nil, nodes[root].row == nil)
            let heldIsReply = self.subject(held).isReply
            if heldDummy && rootDummy {
                // Both dummies: one takes the other's children.
                for child in nodes[root].children { nodes[child].parent = held }
                nodes[held].children += nodes[root].children
                nodes[root].children = []
                removed.insert(root)
            } else if heldDummy || (!rootDummy && !heldIsReply && isReply) {
                // The message goes under the dummy, or the reply under the original.
                link(held, root)
                removed.insert(root)
            } else if rootDummy || (heldIsReply && !isReply) {
                link(root, held)
                removed.insert(held)
                table[subject] = root
            } else {
                // Neither is the other's reply: a new dummy takes the place of the held one.
                let dummy = add(row: nil)
                if let at = slot[held] { roots[at] = dummy; slot[dummy] = at }
                link(dummy, held)
                link(dummy, root)
                removed.insert(root)
                table[subject] = dummy
            }
        }
        return roots.filter { !removed.contains($0) }
    }

    /// Step 6: sorts the children of every container, children's children first.
    private mutating func sortAll(_ roots: [Int]) {
        for node in postOrder(roots) { sortChildren(node) }
    }

    private mutating func sortChildren(_ node: Int) {
        var children = nodes[node].children
        guard children.count > 1 else { return }
        children.sort(by: precedes)
        nodes[node].children = children
    }

    // MARK: Containers

    private mutating func add(row: Int?) -> Int {
        nodes.append(Container(row: row))
        return nodes.count - 1
    }

    private mutating func link(_ parent: Int, _ child: Int) {
        nodes[child].parent = parent
        nodes[parent].children.append(child)
    }

    private mutating func unlink(_ child: Int) {
        guard let parent = nodes[child].parent else { return }
        nodes[parent].children.removeAll { $0 == child }
        nodes[child].parent = nil
    }

    /// Whether `ancestor` is `node` or above it: linking `ancestor` under `node` would make a loop.
    private func isAncestor(_ ancestor: Int, of node: Int) -> Bool {
        if ancestor == node { return true }
        if nodes[ancestor].children.isEmpty { return false }
        var current = nodes[node].parent
        while let c = current {
            if c == ancestor { return true }
            current = nodes[c].parent
        }
        return false
    }

    /// Every container under `roots`, each after all of its descendants.
    private func postOrder(_ roots: [Int]) -> [Int] {
        var order: [Int] = []
        var stack = roots
        while let node = stack.popLast() {
            order.append(node)
            stack += nodes[node].children
        }
        return order.reversed()
    }

    /// The message that stands for a container: its own, or a dummy's first child's.
    private func lead(_ node: Int) -> Int? {
        var current = node
        while nodes[current].row == nil, let first = nodes[current].children.first { current = first }
        return nodes[current].row
    }

    /// The base subject a container is merged by, and whether it was a reply (RFC 5256 §2.2 step 5).
    private func subject(_ node: Int) -> (text: String, isReply: Bool) {
        guard let row = lead(node) else { return ("", false) }
        return (rows[row].subject, rows[row].isReplyOrForward)
    }

    /// RFC 5256 §2.2: by sent date, then by sequence number.
    private func precedes(_ a: Int, _ b: Int) -> Bool {
        guard let x = lead(a), let y = lead(b) else { return lead(a) == nil && lead(b) != nil }
        return (rows[x].sentDate, rows[x].seq) < (rows[y].sentDate, rows[y].seq)
    }

    // MARK: Answer (RFC 5256 §4)

    // thread-list    = "(" (thread-members / thread-nested) ")"
    // thread-members = nz-number *(SP nz-number) [SP thread-nested]
    // thread-nested  = 2*thread-list
    private func render(_ roots: [Int]) -> String {
        enum Step { case text(String), members(Int) }
        var out = ""
        var stack: [Step] = []
        func pushLists(_ list: [Int]) {
            for node in list.reversed() { stack += [.text(")"), .members(node), .text("(")] }
        }
        pushLists(roots)
        while let step = stack.popLast() {
            switch step {
            case .text(let s):
                out += s
            case .members(let node):
                guard let row = nodes[node].row else {
                    // A dummy shows only its children, each as a thread-list of its own.
                    let children = nodes[node].children
                    if children.count == 1 { stack.append(.members(children[0])) } else { pushLists(children) }
                    continue
                }
                var current = node
                out += String(number(rows[row]))
                while nodes[current].children.count == 1, let child = nodes[current].children.first,
                      let row = nodes[child].row {
                    current = child
                    out += " " + String(number(rows[row]))
                }
                if !nodes[current].children.isEmpty {
                    out += " "
                    pushLists(nodes[current].children)
                }
            }
        }
        return out
    }
}
